import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { RequirePermission } from "../../../components/Can";
import { DataTable } from "../../../components/DataTable";
import { ErrorNotice, QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import type { Role, Schemas } from "../../../client/types";
import { formatDateTime } from "../../../lib/format";
import { createTeam } from "../api/createTeam";
import { createUser } from "../api/createUser";
import { teamsQuery } from "../api/listTeams";
import { usersQuery } from "../api/listUsers";
import { resetUserMfa } from "../api/resetUserMfa";
import { updateUser } from "../api/updateUser";

export const ROLES: { role: Role; label: string }[] = [
  { role: "viewer", label: "Viewer" },
  { role: "analyst", label: "Analyst" },
  { role: "quant_developer", label: "Quant developer" },
  { role: "risk_manager", label: "Risk manager" },
  { role: "compliance_officer", label: "Compliance officer" },
  { role: "admin", label: "Admin" },
];

export function UsersPage() {
  return (
    <RequirePermission permission="users.manage">
      <Users />
    </RequirePermission>
  );
}

function Users() {
  const users = useQuery(usersQuery());
  const teams = useQuery(teamsQuery());
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["users"] });
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: Schemas["UserUpdate"] }) => updateUser(id, body),
    onSuccess: refresh,
  });
  const reset = useMutation({ mutationFn: resetUserMfa, onSuccess: refresh });
  return (
    <>
      <PageHeader title="Users and roles" />
      <NewUserForm teams={teams.data ?? []} />
      <section className="card" aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        <ErrorNotice error={update.error ?? reset.error} />
        <QueryState query={users}>
          {(page) => (
            <DataTable
              caption="users"
              rows={page.items}
              rowKey={(u) => u.id}
              columns={[
                { key: "email", header: "E-mail" },
                { key: "display_name", header: "Name" },
                {
                  key: "role",
                  header: "Role",
                  render: (u) => (
                    <select
                      aria-label={`role of ${u.email}`}
                      value={u.role}
                      onChange={(e) => update.mutate({ id: u.id, body: { role: e.target.value as Role } })}
                    >
                      {ROLES.map((r) => (
                        <option key={r.role} value={r.role}>
                          {r.label}
                        </option>
                      ))}
                    </select>
                  ),
                },
                { key: "team", header: "Team", render: (u) => u.team ?? "–" },
                { key: "mfa_enabled", header: "MFA", render: (u) => (u.mfa_enabled ? "on" : "off") },
                { key: "last_login_at", header: "Last sign-in", render: (u) => formatDateTime(u.last_login_at) },
                {
                  key: "actions",
                  header: "Actions",
                  render: (u) => (
                    <span className="actions">
                      <button type="button" onClick={() => update.mutate({ id: u.id, body: { is_active: !u.is_active } })}>
                        {u.is_active ? "Deactivate" : "Activate"}
                      </button>
                      {u.mfa_enabled ? (
                        <button type="button" onClick={() => reset.mutate(u.id)}>
                          Reset MFA
                        </button>
                      ) : null}
                    </span>
                  ),
                },
              ]}
            />
          )}
        </QueryState>
      </section>
      <TeamsSection teams={teams} />
    </>
  );
}

function NewUserForm({ teams }: { teams: Schemas["TeamOut"][] }) {
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [role, setRole] = useState<Role>("analyst");
  const [teamId, setTeamId] = useState("");
  const [password, setPassword] = useState("");
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: createUser,
    onSuccess: () => {
      setEmail("");
      setDisplayName("");
      setPassword("");
      void queryClient.invalidateQueries({ queryKey: ["users"] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ email, display_name: displayName, role, team_id: teamId || null, password: password || null });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-user">
      <h2 id="new-user">New user</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="nu-email">E-mail</label>
          <input id="nu-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="nu-name">Display name</label>
          <input id="nu-name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="nu-role">Role</label>
          <select id="nu-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r.role} value={r.role}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="nu-team">Team</label>
          <select id="nu-team" value={teamId} onChange={(e) => setTeamId(e.target.value)}>
            <option value="">(none)</option>
            {teams.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="nu-password">Initial password (12+ characters; blank for SSO only)</label>
          <input id="nu-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
      </div>
      <ErrorNotice error={create.error} title="User not created" />
      {create.isSuccess ? (
        <p className="notice notice-ok" role="status">
          Created {create.data.email} ({create.data.role}).
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={create.isPending}>
        Create user
      </button>
    </form>
  );
}

function TeamsSection({ teams }: { teams: { data: Schemas["TeamOut"][] | undefined; error: unknown; isPending: boolean } }) {
  const [name, setName] = useState("");
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: createTeam,
    onSuccess: () => {
      setName("");
      void queryClient.invalidateQueries({ queryKey: ["users", "teams"] });
    },
  });
  return (
    <section className="card" aria-labelledby="teams-title">
      <h2 id="teams-title">Teams</h2>
      <QueryState query={teams}>
        {(list) => (
          <DataTable
            caption="teams"
            rows={list}
            rowKey={(t) => t.id}
            empty="No teams yet."
            columns={[
              { key: "name", header: "Team" },
              { key: "members", header: "Members", numeric: true },
              { key: "created_at", header: "Created", render: (t) => formatDateTime(t.created_at) },
            ]}
          />
        )}
      </QueryState>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(name);
        }}
      >
        <label htmlFor="team-name">New team</label>
        <input id="team-name" required value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit">Add team</button>
      </form>
      <ErrorNotice error={create.error} />
    </section>
  );
}
