"use client";
import * as React from "react";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "../ui/tabs";
import { CodeBlock } from "../ui/code-block";

const TOKEN_PLACEHOLDER = "<enrollment-token>";

/** The Debian package: install, then configure and start (the package enables the service). */
function debianScript(origin: string, token: string) {
  return [
    `curl -fsSLo /tmp/splicer-agent.deb ${origin}/api/v1/agent/package && apt-get install -y /tmp/splicer-agent.deb`,
    `printf 'SPLICER_SERVER=%s\nSPLICER_ENROLL_TOKEN=%s\n' '${origin}' '${token}' > /etc/splicer/agent.env && systemctl restart splicer-agent`,
  ].join("\n");
}

function systemdScript(origin: string, token: string) {
  return [
    `mkdir -p /usr/lib/splicer-agent /etc/splicer`,
    `curl -fsSL ${origin}/api/v1/agent/bundle -o /usr/lib/splicer-agent/splicer-agent.js`,
    `curl -fsSL ${origin}/api/v1/agent/systemd -o /etc/systemd/system/splicer-agent.service`,
    // The token is a secret: the file is 0600 before anything is written to it.
    `install -m 600 /dev/null /etc/splicer/agent.env`,
    `cat >> /etc/splicer/agent.env <<'EOF'`,
    `SPLICER_SERVER=${origin}`,
    `SPLICER_ENROLL_TOKEN=${token}`,
    `EOF`,
    `systemctl daemon-reload && systemctl enable --now splicer-agent`,
  ].join("\n");
}

function directScript(origin: string, token: string) {
  return [
    `curl -fsSL ${origin}/api/v1/agent/bundle -o splicer-agent.js`,
    `node splicer-agent.js --server ${origin} --enroll-token ${token} --state-dir /var/lib/splicer-agent`,
  ].join("\n");
}

/** Highlights the token (or its placeholder) inside a script so the eye finds it. */
function withToken(script: string, token: string) {
  const parts = script.split(token);
  return parts.map((p, i) => (
    <React.Fragment key={i}>
      {p}
      {i < parts.length - 1 ? (
        <mark className={token === TOKEN_PLACEHOLDER ? "rounded bg-warn-soft px-0.5 text-warn" : "rounded bg-accent px-0.5 text-accent-foreground"}>{token}</mark>
      ) : null}
    </React.Fragment>
  ));
}

export function InstallInstructions({ origin, token }: { origin: string; token: string | null }) {
  const t = token ?? TOKEN_PLACEHOLDER;
  const sysd = systemdScript(origin, t);
  const direct = directScript(origin, t);
  const deb = debianScript(origin, t);
  return (
    <Tabs defaultValue="debian">
      <TabsList className="mb-3">
        <TabsTrigger value="debian">Debian package</TabsTrigger>
        <TabsTrigger value="systemd">systemd service</TabsTrigger>
        <TabsTrigger value="direct">Run directly</TabsTrigger>
      </TabsList>
      <TabsContent value="debian" className="focus-visible:outline-none">
        <p className="mb-2 text-[13px] text-muted-foreground">
          Run as root on each Debian or Ubuntu server (amd64). Nothing else is needed on the host: the package carries its own runtime, enables the{" "}
          <code className="font-mono text-xs">splicer-agent</code> service, and keeps the host&apos;s patches across reboots.
        </p>
        <CodeBlock text={deb} display={withToken(deb, t)} label="Copy install commands" testId="install-debian" />
      </TabsContent>
      <TabsContent value="systemd" className="focus-visible:outline-none">
        <p className="mb-2 text-[13px] text-muted-foreground">
          Run as root on each server without the package. Needs Node.js 18 or newer and <code className="font-mono text-xs">curl</code>. The agent starts at boot and
          reconnects on its own.
        </p>
        <CodeBlock text={sysd} display={withToken(sysd, t)} label="Copy install commands" testId="install-systemd" />
      </TabsContent>
      <TabsContent value="direct" className="focus-visible:outline-none">
        <p className="mb-2 text-[13px] text-muted-foreground">
          For a quick try or a container: runs in the foreground. The credential is kept in the state directory, so the token is needed only once.
        </p>
        <CodeBlock text={direct} display={withToken(direct, t)} label="Copy run commands" testId="install-direct" />
      </TabsContent>
    </Tabs>
  );
}
