import { SettingsPatchSchema } from "@/lib/api/schemas";
import { route } from "@/lib/http/route";
import { getSettings, updateSettings } from "@/lib/settings/settings";

export const GET = route({ auth: "viewer" }, async () => getSettings());

export const PATCH = route({ auth: "admin", body: SettingsPatchSchema }, async ({ actor, body }) => updateSettings({ actor, changes: body }));
