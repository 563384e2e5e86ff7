import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ErrorNotice } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { meQueryKey } from "../../../lib/session/getMe";
import { useSession } from "../../../lib/session/SessionContext";
import { confirmMfa } from "../api/confirmMfa";
import { enrollMfa } from "../api/enrollMfa";
import { reauth } from "../api/reauth";
import { ChangePasswordForm } from "./ChangePasswordForm";

type Enrolment =
  | { step: "password" }
  | { step: "scan"; secret: string; uri: string; qr: string }
  | { step: "codes"; codes: string[] };

/** Two-factor enrolment: re-authenticate, scan the QR code, confirm a code, keep recovery codes. */
export function SecurityPage() {
  const me = useSession();
  const queryClient = useQueryClient();
  const [state, setState] = useState<Enrolment>({ step: "password" });
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const start = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await reauth(password);
      const enrolment = await enrollMfa();
      setPassword("");
      setState({ step: "scan", secret: enrolment.secret, uri: enrolment.otpauth_uri, qr: enrolment.qr_svg_data_uri });
    });
  };

  const confirm = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const answer = await confirmMfa(code.replace(/\s+/g, ""));
      setState({ step: "codes", codes: answer.recovery_codes });
      await queryClient.invalidateQueries({ queryKey: meQueryKey });
    });
  };

  return (
    <>
      <PageHeader title="Account security">{me?.email}</PageHeader>
      <section className="card" aria-labelledby="mfa-title">
        <h2 id="mfa-title">Two-factor authentication</h2>
        {state.step === "codes" ? (
          <div>
            <p className="notice notice-ok" role="status">
              Two-factor authentication is on. Keep these recovery codes somewhere safe: each works once, and they
              are shown only now.
            </p>
            <ol className="recovery-codes" aria-label="recovery codes">
              {state.codes.map((recovery) => (
                <li key={recovery}>
                  <code>{recovery}</code>
                </li>
              ))}
            </ol>
          </div>
        ) : me?.mfa_enabled ? (
          <p>Two-factor authentication is on for this account.</p>
        ) : state.step === "password" ? (
          <form onSubmit={start}>
            <p>Protect the account with an authenticator app. Confirm your password to begin.</p>
            <div className="field">
              <label htmlFor="reauth-password">Current password</label>
              <input id="reauth-password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            </div>
            <ErrorNotice error={error} />
            <button type="submit" className="primary" disabled={busy}>
              Set up two-factor authentication
            </button>
          </form>
        ) : (
          <form onSubmit={confirm}>
            <p>Scan this code with the authenticator app, then enter the 6-digit code it shows.</p>
            <img className="qr" src={state.qr} alt="QR code of the authenticator secret" width={200} height={200} />
            <p>
              Or enter the key by hand: <code data-testid="mfa-secret">{state.secret}</code>
            </p>
            <details>
              <summary>otpauth URI</summary>
              <code className="wrap" data-testid="otpauth-uri">
                {state.uri}
              </code>
            </details>
            <div className="field">
              <label htmlFor="mfa-code">Code from the app</label>
              <input id="mfa-code" inputMode="numeric" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
            </div>
            <ErrorNotice error={error} />
            <button type="submit" className="primary" disabled={busy}>
              Turn on
            </button>
          </form>
        )}
      </section>
      {me?.sso ? null : <ChangePasswordForm />}
    </>
  );
}
