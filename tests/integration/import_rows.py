#!/usr/bin/python3
"""Rows for usersctl import, with password hashes made by tools other than
usersd: the argon2 command line (Debian's argon2) for argon2id and argon2i,
Python's crypt (libxcrypt) for bcrypt, and hashlib.pbkdf2_hmac for PBKDF2
(PHC and passlib forms) and the ASP.NET Identity v2 and v3 layouts, which
are assembled here byte by byte.

  import_rows.py DIR N_PER_SCHEME [N_ARGON2]

writes into DIR:
  rows.csv      a header and the rows: every scheme, users without a hash,
                and bad rows at known places
  rows.jsonl    the same users as JSON lines (other addresses)
  samples.txt   "email password scheme" of some users of each scheme
  bad.txt       "row reason" of each bad row of rows.csv
  big.jsonl     rows without hashes for the interrupt and resume test
  hashes.txt    every hash made, one a line (tests/bench/scale)
"""
import base64
import warnings
warnings.simplefilter("ignore", DeprecationWarning)
import crypt  # noqa: E402 (deprecated in 3.11, still in Debian 12's 3.11)
import hashlib
import json
import os
import struct
import subprocess
import sys


def b64(b):
    return base64.b64encode(b).decode()


def b64n(b):
    return b64(b).rstrip("=")


def argon2(kind, pw, salt, t, m_log2):
    out = subprocess.run(
        ["argon2", salt, "-" + kind, "-t", str(t), "-m", str(m_log2), "-p", "1", "-e"],
        input=pw.encode(), capture_output=True, check=True)
    return out.stdout.decode().strip()


def pbkdf2_phc(pw, salt, digest, it, passlib):
    key = hashlib.pbkdf2_hmac(digest, pw.encode(), salt, it, 32)
    if passlib:
        return "$pbkdf2-%s$%d$%s$%s" % (digest, it, b64n(salt).replace("+", "."),
                                        b64n(key).replace("+", "."))
    return "$pbkdf2-%s$i=%d$%s$%s" % (digest, it, b64n(salt), b64n(key))


def aspnet_v2(pw, salt):
    key = hashlib.pbkdf2_hmac("sha1", pw.encode(), salt, 1000, 32)
    return b64(b"\x00" + salt + key)


def aspnet_v3(pw, salt, prf, it):
    digest = {0: "sha1", 1: "sha256", 2: "sha512"}[prf]
    key = hashlib.pbkdf2_hmac(digest, pw.encode(), salt, it, 32)
    return b64(b"\x01" + struct.pack(">III", prf, it, len(salt)) + salt + key)


def make(scheme, i, pw):
    salt = os.urandom(16)
    if scheme == "argon2id":
        return argon2("id", pw, "salt%012d" % i, 2, 6)
    if scheme == "argon2i":
        return argon2("i", pw, "salt%012d" % i, 2, 6)
    if scheme == "bcrypt":
        prefix = ["$2a$", "$2b$", "$2y$"][i % 3]
        return crypt.crypt(pw, prefix + crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)[4:])
    if scheme == "pbkdf2":
        return pbkdf2_phc(pw, salt, ["sha1", "sha256", "sha512"][i % 3], 1000, i % 2 == 1)
    if scheme == "aspnet-v2":
        return aspnet_v2(pw, salt)
    if scheme == "aspnet-v3":
        return aspnet_v3(pw, salt, i % 3, 1000)
    raise ValueError(scheme)


def csv_cell(s):
    if s is None:
        return ""
    if s == "" or any(ch in s for ch in ',"\r\n') or s[0] in "[=+-@":
        return '"' + s.replace('"', '""') + '"'
    return s


def main():
    out, per = sys.argv[1], int(sys.argv[2])
    n_argon2 = int(sys.argv[3]) if len(sys.argv) > 3 else per
    schemes = ["argon2id", "argon2i", "bcrypt", "pbkdf2", "aspnet-v2", "aspnet-v3"]
    users = []
    for scheme in schemes:
        n = n_argon2 if scheme.startswith("argon2") else per
        for i in range(n):
            pw = "pw-%s-%d-secret" % (scheme, i)
            users.append((scheme, i, pw, make(scheme, i, pw)))
    # every fifth row has a name, a phone number and a role
    header = "emailAddress,firstName,lastName,phoneNumber,roles,accountIds,passwordHash"
    rows, samples, bad = [], [], []

    def email(prefix, scheme, i):
        return "%s-%s-%d@import.example" % (prefix, scheme, i)

    for scheme, i, pw, h in users:
        e = email("csv", scheme, i)
        first = "First%d" % i
        last = "Last, %s" % scheme  # a comma: quoted
        phone = "+1555%06d" % i if i % 5 == 0 else None
        roles = "Viewer,Reporter" if i % 5 == 0 else None
        rows.append([e, first, last, phone, roles, None, h])
        if i < 3:
            samples.append("%s %s %s" % (e, pw, scheme))
    for i in range(5):  # no hash: created disabled
        rows.append([email("csv", "nohash", i), "No", "Hash", None, None, None, None])
    # bad rows, at known numbers (rows count from 1 after the header)
    bads = [
        (["not-an-email", "Bad", "Email", None, None, None, None], "Email"),
        ([email("csv", "bad", 1), "Bad", "Hash", None, None, None, "$2b$04$short"],
         "malformed bcrypt hash"),
        ([email("csv", "bad", 2), "Bad", "Cost", None, None, None,
          "$2b$15$abcdefghijklmnopqrstuuqREtd3VJD2QVZbuFskFSLk6eRIrQoOS"], "bcrypt cost above the cap"),
        ([email("csv", "bad", 3), "Bad", "Scheme", None, None, None, "$1$abc$def"],
         "not a password hash format usersd reads"),
        ([email("csv", "bad", 4), "Bad", "Org", None, None, "not-a-guid", None], "InvalidId"),
        ([email("csv", "bad", 6), "Bad", "Iterations", None, None, None,
          b64(b"\x01" + struct.pack(">III", 1, 2000000, 16) + os.urandom(48))],
         "PBKDF2 iterations above the cap"),
    ]
    # spread them: after every 7th good row
    pos = 7
    for row, reason in bads:
        rows.insert(pos, row)
        pos += 9
    with open(os.path.join(out, "rows.csv"), "w") as f:
        f.write(header + "\n")
        for n, r in enumerate(rows, 1):
            f.write(",".join(csv_cell(c) for c in r) + "\n")
    for n, r in enumerate(rows, 1):
        for row, reason in bads:
            if r is row and reason is not None:
                bad.append("%d %s" % (n, reason))
    with open(os.path.join(out, "bad.txt"), "w") as f:
        f.write("\n".join(bad) + "\n")
    with open(os.path.join(out, "samples.txt"), "w") as f:
        f.write("\n".join(samples) + "\n")
    with open(os.path.join(out, "rows.jsonl"), "w") as f:
        for scheme, i, pw, h in users[:: max(1, len(users) // 60)]:
            f.write(json.dumps({"emailAddress": email("jsonl", scheme, i),
                                "firstName": "J%d" % i, "lastName": scheme,
                                "roles": ["Viewer"], "passwordHash": h}) + "\n")
            f.write("\n")  # blank lines do not count as rows
    with open(os.path.join(out, "hashes.txt"), "w") as f:
        f.write("".join(h + "\n" for _, _, _, h in users))
    with open(os.path.join(out, "big.jsonl"), "w") as f:
        for i in range(3000):
            f.write(json.dumps({"emailAddress": "big%05d@import.example" % i,
                                "firstName": "Big", "lastName": str(i)}) + "\n")


if __name__ == "__main__":
    main()
