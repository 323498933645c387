import { useEffect, useState } from "react";
import { NavLink, Route, Routes } from "react-router";
import { setUnauthorizedHandler } from "./api/client";
import { clearToken, getToken, setToken } from "./api/token";
import { ROUTES } from "./routes";
import { SessionLoader, useSession } from "./session";
import { useTheme } from "./theme";
import { Automation } from "./views/Automation";
import { CiDetail } from "./views/CiDetail";
import { CmdbTable } from "./views/CmdbTable";
import { Drift } from "./views/Drift";
import { Explorer } from "./views/Explorer";
import { ItsmRecords } from "./views/ItsmRecords";
import { NoSuchPage, NotBuilt } from "./views/NotBuilt";
import { Observability } from "./views/Observability";
import { Overview } from "./views/Overview";
import { Patch } from "./views/Patch";
import { SignIn } from "./views/SignIn";
import { UcsExplorer } from "./views/UcsExplorer";

const BUILT: Record<string, () => React.ReactElement> = {
  "/": () => <Overview />,
  "/cmdb/cis": () => <CmdbTable />,
  "/infrastructure/vmware": () => <Explorer key="vmware" platform="vmware" title="VMware" />,
  "/infrastructure/openstack": () => <Explorer key="openstack" platform="openstack" title="OpenStack" />,
  "/infrastructure/ucs": () => <UcsExplorer />,
  "/cmdb/cis/:id": () => <CiDetail />,
  "/itsm/incidents": () => <ItsmRecords key="incident" kind="incident" title="Incidents" />,
  "/itsm/changes": () => <ItsmRecords key="change" kind="change" title="Changes" />,
  "/itsm/problems": () => <ItsmRecords key="problem" kind="problem" title="Problems" />,
  "/drift": () => <Drift />,
  "/patch": () => <Patch />,
  "/automation/ansible": () => <Automation />,
  "/observability": () => <Observability />,
};

/** The shell: sign-in gate, navigation, theme toggle and the routed views. */
export function App() {
  const [token, setSessionToken] = useState<string | null>(getToken);
  const [reason, setReason] = useState<string | null>(null);
  const [theme, toggleTheme] = useTheme();

  useEffect(() => {
    // A 401 anywhere: the token is no good any more; say why on the sign-in page.
    setUnauthorizedHandler((error) => {
      // Not signed in yet: the sign-in form shows its own error.
      if (getToken() === null) return;
      clearToken();
      setReason(error.message);
      setSessionToken(null);
    });
    return () => setUnauthorizedHandler(null);
  }, []);

  if (!token) {
    return (
      <SignIn
        reason={reason}
        onSignedIn={(value) => {
          setToken(value);
          setReason(null);
          setSessionToken(value);
        }}
      />
    );
  }

  return (
    <SessionLoader token={token}>
      <div className="shell">
        <header>
          <span className="brand">dc-sim</span>
          <nav aria-label="Views">
            <ul>
              {ROUTES.filter((r) => r.nav).map((r) => (
                <li key={r.path}>
                  <NavLink to={r.path} end={r.path === "/"}>
                    {r.title}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <WhoAmI />
          <button type="button" onClick={toggleTheme} aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}>
            {theme === "dark" ? "Light" : "Dark"} theme
          </button>
          <button
            type="button"
            onClick={() => {
              clearToken();
              setSessionToken(null);
            }}
          >
            Sign out
          </button>
        </header>
        <main>
          <Routes>
            {ROUTES.map((r) => {
              const view = r.built ? BUILT[r.path] : undefined;
              return <Route key={r.path} path={r.path} element={view ? view() : <NotBuilt title={r.title} />} />;
            })}
            <Route path="*" element={<NoSuchPage />} />
          </Routes>
        </main>
      </div>
    </SessionLoader>
  );
}

/** The signed-in token's name and role, so a person knows why a button is missing. */
function WhoAmI() {
  const session = useSession();
  if (!session) return null;
  return (
    <span className="whoami" data-testid="whoami">
      {session.name} ({session.role})
    </span>
  );
}
