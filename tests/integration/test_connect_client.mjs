// test_connect_client.mjs BASE_URL ADMIN_EMAIL ADMIN_PASSWORD
//
// A real client of the RPC dialects, not our own framing: the code that
// @bufbuild/protoc-gen-es generates from proto/users.proto (gen/, made by
// test_connect_setup.sh) with @connectrpc/connect-node's transports, against
// a real usersgw in front of a real usersd (test_connect_node.c starts
// them). Through each transport (Connect binary with GET for the reads,
// Connect JSON, gRPC-Web binary, gRPC-Web JSON) every method of
// users.v1.UserService is called: sign in, create, patch, read, list,
// organizations and their members, the business user, token refresh, sign
// out, delete; then the errors: 401, 403, 404 and 409 as Connect codes, and
// field errors in the ResponseStatus detail.
//
// Prints "N passed, N failed"; exits 1 when a check failed.
import http from "node:http";
import { syncBuiltinESMExports } from "node:module";

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";

import {
  OrganizationType,
  ResponseStatusSchema,
  StringListSchema,
  UserService,
} from "./gen/users_pb.js";

const [baseUrl, adminEmail, adminPassword] = process.argv.slice(2);
let passed = 0;
let failed = 0;

function check(cond, what) {
  if (cond) {
    passed++;
  } else {
    failed++;
    console.error(`FAIL: ${what}`);
  }
}

// What goes on the wire: every HTTP request's method and path, seen at
// node's http.request (the transports decide GET or POST below their
// interceptors). The reads of the GET transport must go as GET.
const sent = [];
const httpRequest = http.request;
http.request = (url, options, ...rest) => {
  sent.push([options?.method ?? "GET", new URL(url).pathname]);
  return httpRequest(url, options, ...rest);
};
syncBuiltinESMExports();

const transports = [
  [
    "connect+proto (GET for reads)",
    createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: true,
      useHttpGet: true,
    }),
  ],
  [
    "connect+json",
    createConnectTransport({ baseUrl, httpVersion: "1.1" }),
  ],
  [
    "grpc-web+proto",
    createGrpcWebTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: true,
    }),
  ],
  [
    "grpc-web+json",
    createGrpcWebTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: false,
    }),
  ],
];

const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });

// The ConnectError a call fails with, or null when it did not fail.
async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return ConnectError.from(e);
  }
}

// Every method through one transport; tag keeps its users apart.
async function scenario(name, transport, tag) {
  const c = createClient(UserService, transport);
  const t = `[${name}]`;

  // Authenticate
  const login = await c.authenticate({
    userName: adminEmail,
    password: adminPassword,
  });
  check(login.userId === "1", `${t} Authenticate userId`);
  check(login.bearerToken.length > 20, `${t} Authenticate bearerToken`);
  check(login.roles.includes("Admin"), `${t} Authenticate roles`);
  const admin = bearer(login.bearerToken);

  // NewUser
  const email = `connect-${tag}@example.com`;
  const password = `password-${tag}-1`;
  const made = await c.newUser(
    { emailAddress: email, password, firstName: "Ada", lastName: "Byron" },
    admin,
  );
  check(made.id !== "" && made.id !== "1", `${t} NewUser id`);
  check(made.emailAddress === email, `${t} NewUser email`);

  // PatchUser: a name, and roles through the StringList wrapper
  const patched = await c.patchUser(
    {
      userId: made.id,
      firstName: "Augusta",
      roles: create(StringListSchema, { items: ["Manager"] }),
    },
    admin,
  );
  check(patched.firstName === "Augusta", `${t} PatchUser firstName`);
  check(
    patched.roles.length === 1 && patched.roles[0] === "Manager",
    `${t} PatchUser roles ${JSON.stringify(patched.roles)}`,
  );

  // GetUser
  const got = await c.getUser({ userId: made.id }, admin);
  check(got.firstName === "Augusta", `${t} GetUser firstName`);
  check(got.lastName === "Byron", `${t} GetUser lastName`);
  check(got.emailAddress === email, `${t} GetUser email`);

  // ListUsers
  const list = await c.listUsers({ email, take: 10 }, admin);
  check(list.total === 1, `${t} ListUsers total ${list.total}`);
  check(
    list.results.length === 1 && list.results[0].id === made.id,
    `${t} ListUsers results`,
  );

  // UpdateBusinessUser: an int64 user id both ways
  const biz = await c.updateBusinessUser(
    {
      userId: BigInt(made.id),
      firstName: "Ada",
      lastName: "Lovelace",
      email,
      roles: ["Manager"],
    },
    admin,
  );
  check(biz.data !== undefined, `${t} UpdateBusinessUser data`);
  check(
    biz.data?.id === BigInt(made.id),
    `${t} UpdateBusinessUser data.id ${biz.data?.id}`,
  );
  check(biz.data?.lastName === "Lovelace", `${t} UpdateBusinessUser name`);

  // Organizations: create (an enum), read, list
  const org = await c.createOrganization(
    { name: `Org ${tag}`, type: OrganizationType.Tenant },
    admin,
  );
  check(org.id.length >= 32, `${t} CreateOrganization id`);
  check(org.type === OrganizationType.Tenant, `${t} CreateOrganization type`);
  const org2 = await c.getOrganization({ id: org.id }, admin);
  check(org2.name === `Org ${tag}`, `${t} GetOrganization name`);
  check(org2.type === OrganizationType.Tenant, `${t} GetOrganization type`);
  const orgs = await c.listOrganizations({ take: 1000 }, admin);
  check(
    orgs.results.some((o) => o.id === org.id),
    `${t} ListOrganizations has the new one`,
  );

  // Members
  const added = await c.addOrganizationMember(
    { organizationId: org.id, userId: made.id },
    admin,
  );
  check(added.userId === made.id, `${t} AddOrganizationMember`);
  const inOrg = await c.getUser({ userId: made.id }, admin);
  check(inOrg.accountIds.length === 1, `${t} member of one organization`);
  const removed = await c.removeOrganizationMember(
    { organizationId: org.id, userId: made.id },
    admin,
  );
  check(removed.userId === made.id, `${t} RemoveOrganizationMember`);

  // The new user signs in: a refresh, then 403 for an admin's list
  const userLogin = await c.authenticate({ userName: email, password });
  check(userLogin.userId === made.id, `${t} the new user signs in`);
  const fresh = await c.getAccessToken({
    refreshToken: userLogin.refreshToken,
  });
  check(fresh.accessToken.length > 20, `${t} GetAccessToken accessToken`);
  check(
    fresh.refreshToken !== userLogin.refreshToken,
    `${t} GetAccessToken next refresh token`,
  );
  const self = await c.getUser({ userId: made.id }, bearer(fresh.accessToken));
  check(self.id === made.id, `${t} the refreshed token reads its own user`);
  const forbidden = await failure(
    c.deleteUser({ userId: "1" }, bearer(fresh.accessToken)),
  );
  check(
    forbidden?.code === Code.PermissionDenied,
    `${t} 403 as PermissionDenied: ${forbidden?.code}`,
  );
  const out = await c.logout({ refreshToken: fresh.refreshToken });
  check(out !== undefined, `${t} Logout`);
  const reused = await failure(
    c.getAccessToken({ refreshToken: fresh.refreshToken }),
  );
  check(
    reused?.code === Code.Unauthenticated,
    `${t} a signed-out refresh token is refused: ${reused?.code}`,
  );

  // 401, 404, 409, field errors
  const anon = await failure(c.getUser({ userId: made.id }));
  check(
    anon?.code === Code.Unauthenticated,
    `${t} 401 as Unauthenticated: ${anon?.code}`,
  );
  const basic = await c.getUser(
    { userId: "1" },
    {
      headers: {
        Authorization:
          "Basic " +
          Buffer.from(`${adminEmail}:${adminPassword}`).toString("base64"),
      },
    },
  );
  check(basic.id === "1", `${t} Basic credentials`);
  const missing = await failure(c.getUser({ userId: "999999" }, admin));
  check(missing?.code === Code.NotFound, `${t} 404 as NotFound`);
  const st404 = missing?.findDetails(ResponseStatusSchema) ?? [];
  check(
    st404.length === 1 && st404[0].errorCode === "NotFound",
    `${t} 404 carries its ResponseStatus`,
  );
  const dup = await failure(
    c.newUser({ emailAddress: email, password }, admin),
  );
  check(dup?.code === Code.AlreadyExists, `${t} 409 as AlreadyExists`);
  const bad = await failure(
    c.newUser({ emailAddress: `x-${tag}@example.com`, password: "" }, admin),
  );
  check(bad?.code === Code.InvalidArgument, `${t} 400 as InvalidArgument`);
  const st = bad?.findDetails(ResponseStatusSchema) ?? [];
  check(
    st.length === 1 &&
      st[0].errors.some(
        (e) => e.fieldName === "Password" && e.errorCode === "NotEmpty",
      ),
    `${t} the field error names Password: ${JSON.stringify(st[0]?.errors)}`,
  );

  // DeleteUser
  const del = await c.deleteUser({ userId: made.id }, admin);
  check(del.id === made.id, `${t} DeleteUser`);
  const gone = await failure(c.getUser({ userId: made.id }, admin));
  check(gone?.code === Code.NotFound, `${t} deleted user is gone`);
}

const reads = new Set([
  "GetUser",
  "ListUsers",
  "GetOrganization",
  "ListOrganizations",
]);
for (const [i, [name, transport]] of transports.entries()) {
  const from = sent.length;
  try {
    await scenario(name, transport, `${process.pid}-${i}`);
  } catch (e) {
    failed++;
    console.error(`FAIL: [${name}] ${e?.stack ?? e}`);
  }
  // the reads as GET through the GET transport (the first) only; the rest
  // as POST
  const mine = sent.slice(from);
  check(mine.length >= 20, `[${name}] requests seen: ${mine.length}`);
  for (const [verb, path] of mine) {
    const method = path.split("/").pop();
    const want = i === 0 && reads.has(method) ? "GET" : "POST";
    check(verb === want, `[${name}] ${method} went as ${verb}`);
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
