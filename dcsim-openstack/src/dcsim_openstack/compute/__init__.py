"""Nova v2.1 with microversions: servers (core VMs on the cloud site's compute hosts),
their actions and addresses, flavors, key pairs, hypervisors, availability zones, limits
and volume attachments."""
