"use client";
import * as React from "react";
import { ArrowRight, Lock, User } from "lucide-react";
import { apiFetch, ApiRequestError } from "../api";
import { Button } from "../ui/button";
import { Field, IconInput } from "../ui/input";
import { InlineError } from "../ui/error-state";
import { LogoMark } from "../shell/logo";

/** A required sign-in field with its icon; both turn red together when sign-in fails. */
function LoginField({
  name,
  label,
  icon,
  onChange,
  invalid,
  ...props
}: {
  name: string;
  label: string;
  icon: React.ComponentType<{ className?: string }>;
  onChange: (v: string) => void;
  invalid: boolean;
} & Pick<React.InputHTMLAttributes<HTMLInputElement>, "type" | "autoComplete" | "autoFocus" | "value">) {
  return (
    <Field label={label} htmlFor={name}>
      <IconInput icon={icon} id={name} name={name} required onChange={(e) => onChange(e.target.value)} inputClassName="h-9" aria-invalid={invalid} {...props} />
    </Field>
  );
}

export function LoginForm({ next }: { next: string }) {
  const [username, setUsername] = React.useState("");
  const [password, setPassword] = React.useState("");
  const [error, setError] = React.useState<string | null>(null);
  const [pending, setPending] = React.useState(false);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    setPending(true);
    try {
      await apiFetch("/auth/login", { method: "POST", body: { username: username.trim(), password } });
      // A full navigation so the server layout reads the new session cookie.
      window.location.assign(next);
    } catch (err) {
      setPending(false);
      if (err instanceof ApiRequestError && err.status === 401) setError("Wrong username or password.");
      else if (err instanceof ApiRequestError && err.status === 429) setError(err.message || "Too many attempts. Wait a minute and try again.");
      else setError(err instanceof Error ? err.message : "Sign-in failed.");
    }
  };

  return (
    <div className="relative flex min-h-screen items-center justify-center overflow-hidden px-4">
      {/* Quiet backdrop: a fading grid, like the console's tables. */}
      <div
        aria-hidden="true"
        className="pointer-events-none absolute inset-0 opacity-60 [background-image:linear-gradient(var(--border)_1px,transparent_1px),linear-gradient(90deg,var(--border)_1px,transparent_1px)] [background-size:44px_44px] [mask-image:radial-gradient(ellipse_at_center,black_10%,transparent_70%)]"
      />
      <div
        aria-hidden="true"
        className="pointer-events-none absolute left-1/2 top-1/3 h-[420px] w-[620px] -translate-x-1/2 -translate-y-1/2 rounded-full bg-primary/10 blur-3xl"
      />
      <main className="relative w-full max-w-[360px] animate-pop-in">
        <div className="mb-6 flex flex-col items-center text-center">
          <LogoMark className="size-10 drop-shadow-sm" />
          <h1 className="mt-4 text-xl font-semibold tracking-[-0.015em]">Sign in to Splicer</h1>
          <p className="mt-1 text-[13px] text-muted-foreground">Rebootless kernel patching for your whole fleet</p>
        </div>
        <form
          onSubmit={submit}
          className="rounded-xl border border-border bg-card p-6 shadow-xl shadow-black/[0.04] dark:shadow-black/30"
          aria-describedby={error ? "login-error" : undefined}
        >
          <div className="flex flex-col gap-4">
            <LoginField name="username" label="Username" icon={User} autoComplete="username" autoFocus value={username} onChange={setUsername} invalid={!!error} />
            <LoginField name="password" label="Password" icon={Lock} type="password" autoComplete="current-password" value={password} onChange={setPassword} invalid={!!error} />
            {error ? (
              <div id="login-error">
                <InlineError error={error} />
              </div>
            ) : null}
            <Button type="submit" variant="primary" className="h-9 w-full" loading={pending}>
              {pending ? "Signing in…" : "Sign in"}
              {!pending ? <ArrowRight /> : null}
            </Button>
          </div>
        </form>
        <p className="mt-5 text-center text-xs text-subtle-foreground">
          No account yet? An administrator can add you under Settings.
        </p>
      </main>
    </div>
  );
}
