// Compiled (tsc --noEmit --strict) against the DTOs usersgw serves at
// /types/typescript, saved beside this file as dtos.ts: the DTOs must type
// check with @servicestack/client's JsonServiceClient as typed clients use
// them (a request DTO's IReturn<T> gives the response type).
import { JsonServiceClient } from "@servicestack/client";
import {
    PatchUser, UserInfo, ListUsers, ListUsersResponse, DashboardPermissions,
    UpdateBusinessUser, BusinessUserProfileDataResponse, ActivationStatus,
    Authenticate, AuthenticateResponse, GetOrganization, Organization,
} from "./dtos";

export async function useDtos(client: JsonServiceClient): Promise<string> {
    const u: UserInfo = await client.patch(
        new PatchUser({ userId: "1", roles: ["Manager"] }));
    const l: ListUsersResponse = await client.get(new ListUsers({ take: 5 }));
    const p: DashboardPermissions | undefined = u.dashboardPermissions?.[0];
    const b: BusinessUserProfileDataResponse = await client.put(
        new UpdateBusinessUser({ userId: 7, firstName: "Ada", roles: [] }));
    const s: ActivationStatus | undefined = b.data?.activationStatus;
    const a: AuthenticateResponse = await client.post(
        new Authenticate({ provider: "credentials", userName: "a@b.c" }));
    const o: Organization = await client.get(new GetOrganization({ id: "x" }));
    const api = await client.api(new PatchUser({ firstName: "Ada" }));
    const name: string = new PatchUser().getTypeName();
    return [u.id, l.total, p, s, a.bearerToken, o.name, api.succeeded, name]
        .join(",");
}

export const client = new JsonServiceClient("http://127.0.0.1:1");
