// The TypeScript DTOs usersgw serves at /types/typescript (saved beside
// this file as dtos.ts), with @servicestack/client's JsonServiceClient:
// compiled by tsc --strict (a request DTO's IReturn<T> gives the response
// type), then run by node against the live gateway by test_meta_gw:
//
//   node test_meta_client.js BASE_URL USER PASSWORD
//
// A user in an organization with a child organization gets the Manager
// role; a PatchUser that sets only the first name, sent exactly as the
// DTO sends it, leaves the roles, the accounts and the nested
// organizations (UpdateBusinessUser's answer, whose wire name is
// "organizations") as they were.
import { JsonServiceClient } from "@servicestack/client";
import {
    PatchUser, UserInfo, ListUsers, ListUsersResponse, DashboardPermissions,
    UpdateBusinessUser, BusinessUserProfileDataResponse, ActivationStatus,
    Authenticate, AuthenticateResponse, GetOrganization, Organization,
    CreateOrganization, NewUser, GetUser, OrganizationBasicView,
} from "./dtos";

// Every DTO's types as a typed client uses them (type-checked, not run).
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

function check(ok: boolean, what: string): void {
    if (!ok) {
        throw new Error(what);
    }
}

export async function firstNameEdit(base: string, user: string,
    password: string): Promise<void> {
    const client = new JsonServiceClient(base);
    const auth = await client.post(new Authenticate({
        provider: "credentials", userName: user, password: password }));
    client.bearerToken = auth.bearerToken ?? "";
    const tag = `ts${Date.now()}`;
    const a: Organization = await client.post(
        new CreateOrganization({ name: `A-${tag}` }));
    await client.post(new CreateOrganization({ name: `A1-${tag}`,
        parentId: a.id }));
    const u: UserInfo = await client.post(new NewUser({
        emailAddress: `${tag}@example.com`, password: "password-123",
        firstName: "Ada", lastName: "Lovelace", accountId: a.id }));
    await client.patch(new PatchUser({ userId: u.id, roles: ["Manager"] }));

    const edit = new PatchUser({ userId: u.id, firstName: "Grace" });
    const sent = JSON.stringify(edit);
    check(!("roles" in JSON.parse(sent)) && !("accountIds" in JSON.parse(sent)),
        `PatchUser sends lists it was not given: ${sent}`);
    await client.patch(edit);

    const got: UserInfo = await client.get(new GetUser({ userId: u.id }));
    check(got.firstName === "Grace", `firstName: ${got.firstName}`);
    check(JSON.stringify(got.roles) === '["Manager"]',
        `roles after a first-name edit: ${JSON.stringify(got.roles)}`);
    check(JSON.stringify(got.accountIds) === JSON.stringify([a.id]),
        `accounts after a first-name edit: ${JSON.stringify(got.accountIds)}`);
    const b: BusinessUserProfileDataResponse = await client.put(
        new UpdateBusinessUser({ userId: Number(u.id), firstName: "Grace",
            lastName: "Lovelace", email: `${tag}@example.com`,
            roles: ["Manager"] }));
    const orgs: OrganizationBasicView[] = b.data?.businessOrganizations ?? [];
    check(orgs.length === 1 && orgs[0].name === `A-${tag}` &&
        orgs[0].organizations?.[0]?.name === `A1-${tag}`,
        `nested organizations: ${JSON.stringify(orgs)}`);
    console.log(`typescript: ${sent} kept the roles, the accounts and the ` +
        "nested organizations");
}

if (require.main === module) {
    const [base, user, password] = process.argv.slice(2);
    firstNameEdit(base, user, password).catch((e: Error) => {
        console.error(`typescript: ${e.message}`);
        process.exit(1);
    });
}
