#!/bin/sh
# Runs once, when the postgres service initialises its data directory: NetBox's own
# database and role next to dc-sim's (the image runs *.sh files in initdb.d).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE netbox LOGIN PASSWORD '${NETBOX_DB_PASSWORD}';
CREATE DATABASE netbox OWNER netbox;
SQL
