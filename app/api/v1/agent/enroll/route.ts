import { EnrollRequestSchema } from "@/agent/protocol";
import { enrollHost } from "@/lib/agents/enroll";
import { route } from "@/lib/http/route";

// Agents authenticate with the enrollment token in the body, not with a session.
export const POST = route({ auth: "public", body: EnrollRequestSchema }, async ({ body, ip }) => enrollHost({ ...body, ip }));
