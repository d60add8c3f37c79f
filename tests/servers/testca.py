#!/usr/bin/env python3
"""Test CA and server certificates for mailsetup's tests.

    testca.py DIR          create (if needed) and print the paths as JSON

As a module:  testca.ensure(dir) -> dict of paths (see ensure()).

Everything is made with the `openssl` command line (OpenSSL 3.0 has no
`x509 -not_before`, so certificates with chosen dates are signed with
`openssl ca -startdate/-enddate`).  Keys are EC P-256: fast to generate.
Idempotent: a stamp file written last marks a complete set; a lock file
keeps concurrent test processes from building the same directory twice.
"""

import datetime
import fcntl
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

# Bump when the set of files or their contents change, so old dirs rebuild.
STAMP_VERSION = "mailsetup-testca-4"

# Server certificates the fault servers can present (`--cert NAME`).
LEAVES = ("good", "expired", "notyet", "wronghost", "selfsigned", "bigchain",
          "hugecert", "hugechain")

# Leaves that reuse good.key: variations on the good certificate.
_GOOD_KEY_LEAVES = ("bigchain", "hugecert", "hugechain")

BIGCHAIN_EXTRA = 100  # filler certificates appended to bigchain.pem

# OpenSSL refuses a peer's certificate list over 100 KiB by default
# (SSL_MAX_CERT_LIST_DEFAULT); these two are over it.
HUGECERT_COMMENT = 120 * 1024  # bytes of nsComment in hugecert.pem
HUGECHAIN_COPIES = 3           # bigchain's fillers, this many times over

# 127.0.0.2: Dovecot treats a client whose address equals the server's as
# secure and allows plaintext logins; tests that want it strict listen on
# 127.0.0.2 (the client still connects from 127.0.0.1).
_GOOD_SAN = "DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:::1"

_CA_CONF = """\
[ ca ]
default_ca = testca

[ testca ]
dir              = {dir}
database         = {dir}/index.txt
new_certs_dir    = {dir}/newcerts
serial           = {dir}/serial
default_md       = sha256
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no

[ policy_any ]
commonName       = supplied

[ v3_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_leaf ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName         = ${{ENV::LEAF_SAN}}
"""

# The good leaf's extensions plus a 120 KiB comment.  They go in an
# extension file of their own: a value that long is too near Linux's 128 KiB
# limit on one environment variable for the ${ENV::} route of the others.
_HUGE_EXT = """\
[ v3_huge ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName         = {san}
nsComment              = "{comment}"
"""


def _run(args, env=None):
    """Run openssl quietly; raise with its stderr on failure."""
    full_env = dict(os.environ)
    full_env.pop("OPENSSL_CONF", None)
    if env:
        full_env.update(env)
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=full_env)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            " ".join(args), p.returncode,
            p.stderr.decode(errors="replace")))
    return p.stdout


def _stamp(when):
    """openssl ca date format (GeneralizedTime, UTC)."""
    return when.strftime("%Y%m%d%H%M%SZ")


def _genkey(path):
    _run(["openssl", "genpkey", "-algorithm", "EC",
          "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path])
    os.chmod(path, 0o600)


def _csr(key, subject, out):
    _run(["openssl", "req", "-new", "-key", key, "-subj", subject,
          "-out", out])


def _ca_sign(work, csr, out, start, end, ext, san=_GOOD_SAN, selfsign_key=None,
             extfile=None):
    """Sign CSR with the test CA (or self-sign) with explicit dates."""
    args = ["openssl", "ca", "-batch", "-notext",
            "-config", os.path.join(work, "ca.cnf"),
            "-in", csr, "-out", out, "-extensions", ext,
            "-startdate", _stamp(start), "-enddate", _stamp(end)]
    if extfile:
        args += ["-extfile", extfile]
    if selfsign_key:
        args += ["-selfsign", "-keyfile", selfsign_key]
    else:
        args += ["-cert", os.path.join(work, "ca.pem"),
                 "-keyfile", os.path.join(work, "ca.key")]
    _run(args, env={"LEAF_SAN": san})


def _filler_cert(work, i):
    """One throw-away self-signed certificate for bigchain.pem."""
    out = os.path.join(work, "filler-%03d.pem" % i)
    _run(["openssl", "req", "-x509", "-new", "-key",
          os.path.join(work, "filler.key"), "-subj",
          "/CN=mailsetup filler %d" % i, "-days", "3650",
          "-out", out])
    with open(out) as f:
        return f.read()


def paths(dir):
    """The dict ensure() returns, without creating anything."""
    dir = os.path.abspath(dir)
    d = {"dir": dir,
         "ca": os.path.join(dir, "ca.pem"),
         "ca_key": os.path.join(dir, "ca.key")}
    for name in LEAVES:
        d[name] = os.path.join(dir, name + ".pem")
        key = "good" if name in _GOOD_KEY_LEAVES else name
        d[name + "_key"] = os.path.join(dir, key + ".key")
    return d


def cert_and_key(dir, name):
    """(certificate chain file, key file) of server certificate NAME."""
    if name not in LEAVES:
        raise ValueError("unknown certificate %r (one of %s)"
                         % (name, ", ".join(LEAVES)))
    p = paths(dir)
    return p[name], p[name + "_key"]


def _build(work):
    """Create everything in WORK (an empty temporary directory)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    day = datetime.timedelta(days=1)
    os.makedirs(os.path.join(work, "newcerts"))
    open(os.path.join(work, "index.txt"), "w").close()
    with open(os.path.join(work, "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(work, "ca.cnf"), "w") as f:
        f.write(_CA_CONF.format(dir=work))

    keys = ["ca", "filler"] + [n for n in LEAVES if n not in _GOOD_KEY_LEAVES]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: _genkey(os.path.join(work, n + ".key")), keys))
        # Fillers only need the filler key; make them while the rest is signed.
        fillers = pool.map(lambda i: _filler_cert(work, i),
                           range(BIGCHAIN_EXTRA))

        # The CA is back-dated so it covers the expired leaf's validity too.
        _csr(os.path.join(work, "ca.key"), "/CN=mailsetup test CA",
             os.path.join(work, "ca.csr"))
        _ca_sign(work, os.path.join(work, "ca.csr"), os.path.join(work, "ca.pem"),
                 now - 3650 * day, now + 3650 * day, "v3_ca",
                 selfsign_key=os.path.join(work, "ca.key"))

        # name: (notBefore, notAfter, SAN, self-signed?)
        leaves = {
            "good":       (now - day, now + 3000 * day, _GOOD_SAN, False),
            "expired":    (now - 730 * day, now - 365 * day, _GOOD_SAN, False),
            "notyet":     (now + 365 * day, now + 730 * day, _GOOD_SAN, False),
            "wronghost":  (now - day, now + 3000 * day, "DNS:wrong.example", False),
            "selfsigned": (now - day, now + 3000 * day, _GOOD_SAN, True),
        }
        for name, (start, end, san, selfsigned) in leaves.items():
            key = os.path.join(work, name + ".key")
            csr = os.path.join(work, name + ".csr")
            cn = "wrong.example" if name == "wronghost" else "localhost"
            _csr(key, "/CN=" + cn, csr)
            _ca_sign(work, csr, os.path.join(work, name + ".pem"), start, end,
                     "v3_leaf", san=san, selfsign_key=key if selfsigned else None)

        # The good leaf (name, key, dates) with a huge comment: valid in
        # every respect but its size.
        extfile = os.path.join(work, "huge.cnf")
        with open(extfile, "w") as f:
            f.write(_HUGE_EXT.format(san=_GOOD_SAN, comment="x" * HUGECERT_COMMENT))
        _ca_sign(work, os.path.join(work, "good.csr"),
                 os.path.join(work, "hugecert.pem"), now - day, now + 3000 * day,
                 "v3_huge", extfile=extfile)

        with open(os.path.join(work, "good.pem")) as f:
            good = f.read()
        fillers = "".join(fillers)
        with open(os.path.join(work, "bigchain.pem"), "w") as f:
            f.write(good + fillers)
        with open(os.path.join(work, "hugechain.pem"), "w") as f:
            f.write(good + fillers * HUGECHAIN_COPIES)


def ensure(dir):
    """Create the CA and certificates in DIR unless already there.

    Returns {"dir", "ca", "ca_key", NAME, NAME + "_key"} for every NAME in
    LEAVES (absolute paths; "bigchain_key", "hugecert_key" and
    "hugechain_key" are good.key).
    """
    p = paths(dir)
    os.makedirs(p["dir"], exist_ok=True)
    stamp = os.path.join(p["dir"], ".stamp")

    def complete():
        try:
            with open(stamp) as f:
                if f.read().strip() != STAMP_VERSION:
                    return False
        except FileNotFoundError:
            return False
        return all(os.path.exists(v) for k, v in p.items() if k != "dir")

    if complete():
        return p
    with open(os.path.join(p["dir"], ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if complete():
            return p
        # Build aside, then move the finished files in, stamp last.
        with tempfile.TemporaryDirectory(dir=p["dir"], prefix=".build-") as work:
            _build(work)
            for v in {v for k, v in p.items() if k != "dir"}:
                os.replace(os.path.join(work, os.path.basename(v)), v)
        with open(stamp, "w") as f:
            f.write(STAMP_VERSION + "\n")
    return p


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: testca.py DIR\n")
        return 2
    print(json.dumps(ensure(argv[1]), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
