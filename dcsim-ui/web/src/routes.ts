// The routes (issue #16, after SPEC-120 of the seed family), and whether each
// view is built yet. The server's fallback serves index.html for the same paths.

export interface ViewRoute {
  path: string;
  title: string;
  /** Shown in the navigation (detail routes are not). */
  nav: boolean;
  built: boolean;
}

export const ROUTES: ViewRoute[] = [
  { path: "/", title: "Overview", nav: true, built: true },
  { path: "/infrastructure/vmware", title: "VMware", nav: true, built: true },
  { path: "/infrastructure/openstack", title: "OpenStack", nav: true, built: true },
  { path: "/infrastructure/ucs", title: "UCS", nav: true, built: true },
  { path: "/cmdb/cis", title: "CMDB", nav: true, built: true },
  { path: "/cmdb/cis/:id", title: "Configuration item", nav: false, built: true },
  { path: "/itsm/incidents", title: "Incidents", nav: true, built: true },
  { path: "/itsm/changes", title: "Changes", nav: true, built: true },
  { path: "/itsm/problems", title: "Problems", nav: true, built: true },
  { path: "/drift", title: "Drift", nav: true, built: true },
  { path: "/patch", title: "Patch", nav: true, built: true },
  { path: "/automation/ansible", title: "Automation", nav: true, built: true },
  { path: "/observability", title: "Metrics", nav: true, built: true },
];
