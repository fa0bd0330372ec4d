import { route } from "@/lib/http/route";

export const GET = route({ auth: "viewer" }, async ({ actor }) => ({
  id: actor.type === "operator" || actor.type === "api_token" ? actor.id : "",
  username: actor.name,
  role: "role" in actor ? actor.role : "viewer",
  via: actor.type === "api_token" ? "api_token" : "session",
}));
