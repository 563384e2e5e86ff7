import { useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useLocation, useNavigate } from "react-router-dom";
import { ErrorNotice } from "../../../components/feedback";
import { meQueryKey } from "../../../lib/session/getMe";
import { isMfaChallenge, login } from "../api/login";
import { verifyMfa } from "../api/verifyMfa";
import { oidcConfigQuery } from "../api/getOidcConfig";

type Step = { kind: "password" } | { kind: "mfa"; token: string };

/** Password, then a TOTP or recovery code when the account has MFA; SSO when configured. */
export function LoginPage() {
  const [step, setStep] = useState<Step>({ kind: "password" });
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [useRecovery, setUseRecovery] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const oidc = useQuery(oidcConfigQuery());
  const from = (location.state as { from?: string } | null)?.from ?? "/";

  const finish = async () => {
    await queryClient.invalidateQueries({ queryKey: meQueryKey });
    navigate(from === "/login" ? "/" : from, { replace: true });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (step.kind === "password") {
        const answer = await login(email, password);
        if (isMfaChallenge(answer)) setStep({ kind: "mfa", token: answer.mfa_token });
        else await finish();
      } else {
        const trimmed = code.replace(/\s+/g, "");
        await verifyMfa(step.token, useRecovery ? { recovery_code: trimmed } : { code: trimmed });
        await finish();
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Contango</h1>
        <p className="muted">Futures research and backtesting</p>
        {step.kind === "password" ? (
          <>
            <div className="field">
              <label htmlFor="email">E-mail</label>
              <input id="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="password">Password</label>
              <input id="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            </div>
          </>
        ) : (
          <div className="field">
            <label htmlFor="code">{useRecovery ? "Recovery code" : "Authentication code"}</label>
            <input
              id="code"
              autoComplete="one-time-code"
              inputMode={useRecovery ? "text" : "numeric"}
              required
              autoFocus
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
            <button type="button" className="link" onClick={() => setUseRecovery(!useRecovery)}>
              {useRecovery ? "Use a code from the authenticator app" : "Use a recovery code instead"}
            </button>
          </div>
        )}
        <ErrorNotice error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : step.kind === "password" ? "Sign in" : "Verify"}
        </button>
        {oidc.data?.enabled && step.kind === "password" ? (
          <a className="button" href={oidc.data.login_url ?? "/api/v1/auth/oidc/login"}>
            Sign in with single sign-on
          </a>
        ) : null}
      </form>
    </main>
  );
}
