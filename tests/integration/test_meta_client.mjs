// The JavaScript DTOs usersgw serves at /types/mjs (saved beside this file
// as dtos.mjs, an ES module), with @servicestack/client's
// JsonServiceClient, run by node against the live gateway by
// test_meta_gw:
//
//   node test_meta_client.mjs BASE_URL USER PASSWORD
//
// The same first-name edit as test_meta_client.ts: the roles, the accounts
// and the nested organizations stay as they were.
import { JsonServiceClient } from "@servicestack/client";
import {
    Authenticate, CreateOrganization, NewUser, PatchUser, GetUser,
    UpdateBusinessUser,
} from "./dtos.mjs";

function check(ok, what) {
    if (!ok) {
        throw new Error(what);
    }
}

async function firstNameEdit(base, user, password) {
    const client = new JsonServiceClient(base);
    const auth = await client.post(new Authenticate({
        provider: "credentials", userName: user, password }));
    client.bearerToken = auth.bearerToken;
    const tag = `js${Date.now()}`;
    const a = await client.post(new CreateOrganization({ name: `A-${tag}` }));
    await client.post(new CreateOrganization({ name: `A1-${tag}`,
        parentId: a.id }));
    const u = await client.post(new NewUser({
        emailAddress: `${tag}@example.com`, password: "password-123",
        firstName: "Ada", lastName: "Lovelace", accountId: a.id }));
    await client.patch(new PatchUser({ userId: u.id, roles: ["Manager"] }));

    const edit = new PatchUser({ userId: u.id, firstName: "Grace" });
    const sent = JSON.stringify(edit);
    check(!("roles" in JSON.parse(sent)) && !("accountIds" in JSON.parse(sent)),
        `PatchUser sends lists it was not given: ${sent}`);
    await client.patch(edit);

    const got = await client.get(new GetUser({ userId: u.id }));
    check(got.firstName === "Grace", `firstName: ${got.firstName}`);
    check(JSON.stringify(got.roles) === '["Manager"]',
        `roles after a first-name edit: ${JSON.stringify(got.roles)}`);
    check(JSON.stringify(got.accountIds) === JSON.stringify([a.id]),
        `accounts after a first-name edit: ${JSON.stringify(got.accountIds)}`);
    const b = await client.put(new UpdateBusinessUser({
        userId: Number(u.id), firstName: "Grace", lastName: "Lovelace",
        email: `${tag}@example.com`, roles: ["Manager"] }));
    const orgs = b.data?.businessOrganizations ?? [];
    check(orgs.length === 1 && orgs[0].name === `A-${tag}` &&
        orgs[0].organizations?.[0]?.name === `A1-${tag}`,
        `nested organizations: ${JSON.stringify(orgs)}`);
    console.log(`javascript: ${sent} kept the roles, the accounts and the ` +
        "nested organizations");
}

const [base, user, password] = process.argv.slice(2);
firstNameEdit(base, user, password).catch((e) => {
    console.error(`javascript: ${e.message}`);
    process.exit(1);
});
