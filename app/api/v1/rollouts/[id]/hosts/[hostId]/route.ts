import { z } from "zod";
import { route } from "@/lib/http/route";
import { getRolloutHost } from "@/lib/rollouts/query";

const Params = z.object({ id: z.string().uuid("not a valid id"), hostId: z.string().uuid("not a valid host id") });

// One host's part in a rollout, with the agent's log of the job.
export const GET = route({ auth: "viewer", params: Params }, async ({ params }) => getRolloutHost(params.id, params.hostId));
