"""Independent checks of what the private CA issues, over plain HTTP with a
token (as curl would): every kind of certificate passes pkilint's RFC 5280
linter without errors and `openssl verify` against its chain; Tomcat and IIS
keystores open in Java's keytool; the SM2 enveloped key (GB/T 35276) and the
GM/T 0010 signed-and-enveloped data are opened with the customer's signing
key using only OpenSSL's command line and ASN.1 parsers written here from the
standards (not OpenCCM's code), and the CA's signature on the latter is
verified with OpenSSL."""

import base64
import io
import json
import os
import subprocess
import tempfile
import zipfile

import requests
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import namedtype, tag, univ

from common import ENDPOINT, check

work = tempfile.mkdtemp()
SM2_ID = ["-vfyopt", "distid:1234567812345678"]
PKILINT = os.path.join(os.path.dirname(os.sys.executable), "lint_pkix_cert")


def run(*args, ok=True, cwd=work):
    out = subprocess.run(list(args), cwd=cwd, capture_output=True)
    if ok:
        check(out.returncode == 0, f"{args}: {out.stdout.decode(errors='replace')} {out.stderr.decode(errors='replace')}")
    return out


def write(name, data):
    path = os.path.join(work, name)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


def token():
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": os.environ["OPENCCM_USER"], "password": os.environ["OPENCCM_PASSWORD"],
        "domain": {"name": os.environ["OPENCCM_DOMAIN_NAME"]}}}}}}
    r = requests.post(f"{ENDPOINT}/v3/auth/tokens", json=body, timeout=30)
    check(r.status_code == 201, f"token: {r.status_code} {r.text}")
    return r.headers["X-Subject-Token"]


session = requests.Session()
session.headers["X-Auth-Token"] = token()


def api(method, path, body=None, status=200):
    r = session.request(method, ENDPOINT + path, json=body, timeout=120)
    check(r.status_code == status, f"{method} {path}: {r.status_code} {r.text[:500]}")
    return r


def dn(cn):
    return {"common_name": cn, "country": "CN", "state": "Guangdong", "locality": "Shenzhen",
            "organization": "示例组织", "organizational_unit": "IT"}


def create_ca(body):
    return api("POST", "/v1/private-certificate-authorities", body).json()["ca_id"]


def ca_pem(ca_id):
    return api("POST", f"/v1/private-certificate-authorities/{ca_id}/export").json()


def issue(body):
    return api("POST", "/v1/private-certificates", body).json()["certificate_id"]


def export(cert_id, **body):
    body.setdefault("is_compressed", "false")
    body.setdefault("type", "OTHER")
    return api("POST", f"/v1/private-certificates/{cert_id}/export", body)


linted = []


def lint(name, pem):
    path = write(name, pem)
    out = run(PKILINT, "lint", "--document-format", "PEM", path, ok=False)
    report = out.stdout.decode() + out.stderr.decode()
    problems = [line for line in report.splitlines() if "(ERROR)" in line or "(FATAL)" in line]
    check(not problems, f"pkilint {name}:\n{report}")
    check(out.returncode in (0, 1) or not problems, f"pkilint failed to run on {name}: {report}")
    linted.append(name)


def split_pems(text):
    marker = "-----END CERTIFICATE-----"
    return [p.strip() + "\n" + marker + "\n" for p in text.split(marker) if p.strip()]


def verify(leaf_pem, chain_pem, sm2=False, name="leaf"):
    write(f"{name}.pem", leaf_pem)
    write(f"{name}-chain.pem", chain_pem)
    if not sm2:
        run("openssl", "verify", "-x509_strict", "-CAfile", f"{name}-chain.pem", f"{name}.pem")
        return
    # OpenSSL 3.0 applies -vfyopt distid: to the target certificate only and
    # checks intermediates with an empty SM2 id, so an SM2 chain is verified
    # link by link: each certificate against its issuer as the trust anchor.
    chain = [leaf_pem] + split_pems(chain_pem)
    for i in range(len(chain) - 1):
        write(f"{name}-link{i}.pem", chain[i])
        write(f"{name}-issuer{i}.pem", chain[i + 1])
        run("openssl", "verify", "-x509_strict", *SM2_ID, "-partial_chain", "-CAfile", f"{name}-issuer{i}.pem", f"{name}-link{i}.pem")
    write(f"{name}-top.pem", chain[-1])
    run("openssl", "verify", "-x509_strict", *SM2_ID, "-CAfile", f"{name}-top.pem", f"{name}-top.pem")


# --- every kind of certificate, linted and verified ---------------------------------
ekus = [
    {"server_auth": True},
    {"client_auth": True},
    {"server_auth": True, "client_auth": True},
    {"code_signing": True},
    {"email_protection": True},
    {"time_stamping": True},
    {"smart_card_logon": True, "client_auth": True},
]
for alg, hash_, leaf_algs in [("RSA2048", "SHA256", ["RSA2048", "EC256"]), ("RSA4096", "SHA512", ["RSA3072"]),
                              ("EC256", "SHA256", ["EC256", "RSA2048"]), ("EC384", "SHA384", ["EC384"]),
                              ("SM2", "SM3", ["SM2"])]:
    sm2 = alg == "SM2"
    root = create_ca({"type": "ROOT", "key_algorithm": alg, "signature_algorithm": hash_,
                      "distinguished_name": dn(f"{alg} Root"), "validity": {"type": "YEAR", "value": 20},
                      "crl_configuration": {"enabled": True, "obs_bucket_name": "b", "valid_days": 7}})
    root_pem = ca_pem(root)["certificate"]
    lint(f"{alg}-root.pem", root_pem)
    api("POST", f"/v1/private-certificate-authorities/{root}/ocsp/switch", {"ocsp_switch": True}, status=204)
    sub = create_ca({"type": "SUBORDINATE", "key_algorithm": alg, "signature_algorithm": hash_, "issuer_id": root,
                     "path_length": 0, "distinguished_name": dn(f"{alg} Sub"), "validity": {"type": "YEAR", "value": 10}})
    sub_export = ca_pem(sub)
    lint(f"{alg}-sub.pem", sub_export["certificate"])
    verify(sub_export["certificate"], sub_export["certificate_chain"], sm2, f"{alg}-sub-check")
    for leaf_alg in leaf_algs:
        for i, eku in enumerate(ekus):
            body = {"issuer_id": sub, "key_algorithm": leaf_alg, "distinguished_name": {"common_name": f"leaf{i}.example.com"},
                    "validity": {"type": "DAY", "value": 90}, "extended_key_usage": eku,
                    "subject_alternative_names": [{"type": "DNS", "value": f"leaf{i}.example.com"}]}
            if eku.get("email_protection"):
                body["subject_alternative_names"].append({"type": "EMAIL", "value": "user@example.com"})
            cert = issue(body)
            out = export(cert).json()
            lint(f"{alg}-{leaf_alg}-leaf{i}.pem", out["certificate"])
            verify(out["certificate"], out["certificate_chain"], sm2, f"{alg}-{leaf_alg}-{i}")
            if "enc_certificate" in out:
                lint(f"{alg}-{leaf_alg}-enc{i}.pem", out["enc_certificate"])
                verify(out["enc_certificate"], out["certificate_chain"], sm2, f"{alg}-{leaf_alg}-enc{i}")
    # From a CSR (an end entity and an intermediate CA whose key stays outside).
    keyspec = {"SM2": ["-newkey", "sm2"], "EC256": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
               "EC384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]}.get(alg, ["-newkey", "rsa:2048"])
    if sm2:
        run("openssl", "genpkey", "-algorithm", "SM2", "-out", "sm2csr.key")
        keyspec = ["-key", "sm2csr.key", "-sm3", "-sigopt", "distid:1234567812345678"]
    run("openssl", "req", "-new", "-nodes", *keyspec, *([] if sm2 else ["-keyout", f"{alg}-csr.key"]),
        "-out", f"{alg}.csr", "-subj", f"/C=CN/O=Customer/CN={alg.lower()}.customer.example")
    csr = open(os.path.join(work, f"{alg}.csr")).read()
    cert = api("POST", "/v1/private-certificates/csr", {"issuer_id": sub, "csr": csr, "validity": {"type": "DAY", "value": 30}}).json()["certificate_id"]
    out = export(cert).json()
    lint(f"{alg}-csr-leaf.pem", out["certificate"])
    verify(out["certificate"], out["certificate_chain"], sm2, f"{alg}-csr")
    ica = api("POST", "/v1/private-certificates/csr", {"issuer_id": root, "csr": csr, "type": "INTERMEDIATE_CA", "path_length": 0,
                                                        "validity": {"type": "YEAR", "value": 2}}).json()["certificate_id"]
    ica_export = ca_pem(ica)
    lint(f"{alg}-ica.pem", ica_export["certificate"])
    verify(ica_export["certificate"], ica_export["certificate_chain"], sm2, f"{alg}-ica")

check(len(linted) >= 60, f"linted {len(linted)} certificates")

# --- keystores in Java's keytool ------------------------------------------------------
root = create_ca({"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
                  "distinguished_name": dn("Keystore Root"), "validity": {"type": "YEAR", "value": 5}})
cert = issue({"issuer_id": root, "key_algorithm": "RSA2048", "distinguished_name": {"common_name": "tomcat.example.com"},
              "validity": {"type": "DAY", "value": 30}})
for kind, name in [("TOMCAT", "server.jks"), ("IIS", "server.pfx")]:
    for password in [None, "Keytool-Pass1"]:
        body = {"is_compressed": "true", "type": kind}
        if password:
            body["password"] = password
        r = export(cert, **body)
        check(r.headers["Content-Type"] == "application/zip", "zip")
        files = zipfile.ZipFile(io.BytesIO(r.content))
        store = files.read(name)
        store_pass = password or files.read("keystorePass.txt").decode()
        check((password is None) == ("keystorePass.txt" in files.namelist()), "keystorePass.txt only without a password")
        write(name, store)
        listing = run("keytool", "-list", "-v", "-keystore", name, "-storepass", store_pass).stdout.decode()
        check("PrivateKeyEntry" in listing, f"keytool sees the key: {listing}")
        check("Certificate chain length: 2" in listing, f"keytool sees the chain: {listing}")
        bad = run("keytool", "-list", "-keystore", name, "-storepass", "wrong-password", ok=False)
        check(bad.returncode != 0, "a wrong store password is refused")


# --- the SM2 enveloped key, opened independently ---------------------------------------
class AlgorithmIdentifier(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("algorithm", univ.ObjectIdentifier()),
        namedtype.OptionalNamedType("parameters", univ.Any()))


class SM2Cipher(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("xCoordinate", univ.Integer()),
        namedtype.NamedType("yCoordinate", univ.Integer()),
        namedtype.NamedType("hash", univ.OctetString()),
        namedtype.NamedType("cipherText", univ.OctetString()))


class SM2EnvelopedKey(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("symAlgID", AlgorithmIdentifier()),
        namedtype.NamedType("symEncryptedKey", SM2Cipher()),
        namedtype.NamedType("sm2PublicKey", univ.BitString()),
        namedtype.NamedType("sm2EncryptedPrivateKey", univ.BitString()))


class ECPrivateKey(univ.Sequence):  # RFC 5915
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("version", univ.Integer()),
        namedtype.NamedType("privateKey", univ.OctetString()),
        namedtype.OptionalNamedType("parameters", univ.ObjectIdentifier().subtype(
            explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 0))))


def check_scalar(d, enc_cert_pem, label):
    """`d` is the private scalar of the key in `enc_cert_pem`."""
    check(len(d) == 32, "a 32-byte private scalar")
    key = ECPrivateKey()
    key["version"] = 1
    key["privateKey"] = d
    key["parameters"] = univ.ObjectIdentifier("1.2.156.10197.1.301").subtype(
        explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 0))
    write(f"{label}-recovered.der", encoder.encode(key))
    recovered_pub = run("openssl", "pkey", "-inform", "DER", "-in", f"{label}-recovered.der", "-pubout").stdout
    write(f"{label}-enc.pem", enc_cert_pem)
    cert_pub = run("openssl", "x509", "-in", f"{label}-enc.pem", "-noout", "-pubkey").stdout
    check(recovered_pub == cert_pub, "the recovered key is the encryption certificate's key")
    return cert_pub


def open_envelope(envelope_b64, signing_key_file, enc_cert_pem, label):
    envelope, rest = decoder.decode(base64.b64decode(envelope_b64), asn1Spec=SM2EnvelopedKey())
    check(rest == b"", "no trailing bytes")
    check(str(envelope["symAlgID"]["algorithm"]).startswith("1.2.156.10197.1.104"), "SM4")
    write(f"{label}-symkey.der", encoder.encode(envelope["symEncryptedKey"]))
    run("openssl", "pkeyutl", "-decrypt", "-inkey", signing_key_file, "-in", f"{label}-symkey.der", "-out", f"{label}-sm4.key")
    sm4_key = open(os.path.join(work, f"{label}-sm4.key"), "rb").read()
    check(len(sm4_key) == 16, "a 128-bit SM4 key")
    write(f"{label}-encpriv.bin", envelope["sm2EncryptedPrivateKey"].asOctets())
    run("openssl", "enc", "-d", "-sm4-ecb", "-nopad", "-K", sm4_key.hex(), "-in", f"{label}-encpriv.bin", "-out", f"{label}-d.bin")
    d = open(os.path.join(work, f"{label}-d.bin"), "rb").read()
    cert_pub = check_scalar(d, enc_cert_pem, label)
    point = envelope["sm2PublicKey"].asOctets()
    check(len(point) == 65 and point[0] == 4, "sm2PublicKey is 04||X||Y")
    check(point in base64.b64decode("".join(cert_pub.decode().splitlines()[1:-1])), "sm2PublicKey is the encryption key")


# GM/T 0010 (GB/T 35275) signedAndEnvelopedData, from the standard's ASN.1.
class IssuerAndSerialNumber(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("issuer", univ.Any()),
        namedtype.NamedType("serialNumber", univ.Integer()))


class RecipientInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("version", univ.Integer()),
        namedtype.NamedType("issuerAndSerialNumber", IssuerAndSerialNumber()),
        namedtype.NamedType("keyEncryptionAlgorithm", AlgorithmIdentifier()),
        namedtype.NamedType("encryptedKey", univ.OctetString()))


class EncryptedContentInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("contentType", univ.ObjectIdentifier()),
        namedtype.NamedType("contentEncryptionAlgorithm", AlgorithmIdentifier()),
        namedtype.OptionalNamedType("encryptedContent", univ.OctetString().subtype(
            implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 0))))


class SignerInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("version", univ.Integer()),
        namedtype.NamedType("issuerAndSerialNumber", IssuerAndSerialNumber()),
        namedtype.NamedType("digestAlgorithm", AlgorithmIdentifier()),
        namedtype.NamedType("digestEncryptionAlgorithm", AlgorithmIdentifier()),
        namedtype.NamedType("encryptedDigest", univ.OctetString()))


class SignedAndEnvelopedData(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("version", univ.Integer()),
        namedtype.NamedType("recipientInfos", univ.SetOf(componentType=RecipientInfo())),
        namedtype.NamedType("digestAlgorithms", univ.SetOf(componentType=AlgorithmIdentifier())),
        namedtype.NamedType("encryptedContentInfo", EncryptedContentInfo()),
        namedtype.OptionalNamedType("certificates", univ.SetOf(componentType=univ.Any()).subtype(
            implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0))),
        namedtype.NamedType("signerInfos", univ.SetOf(componentType=SignerInfo())))


class ContentInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("contentType", univ.ObjectIdentifier()),
        namedtype.NamedType("content", SignedAndEnvelopedData().subtype(
            explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0))))


def pem_der(pem):
    return base64.b64decode("".join(line for line in pem.strip().splitlines() if not line.startswith("-----")))


def serial_of(cert_pem, label):
    write(f"{label}-serial.pem", cert_pem)
    return int(run("openssl", "x509", "-in", f"{label}-serial.pem", "-noout", "-serial").stdout.decode().split("=")[1], 16)


def open_signed_and_enveloped(data_b64, signing_key_file, sign_cert_pem, enc_cert_pem, ca_cert_pem, label):
    info, rest = decoder.decode(base64.b64decode(data_b64), asn1Spec=ContentInfo())
    check(rest == b"", "no trailing bytes")
    check(str(info["contentType"]) == "1.2.156.10197.6.1.4.2.4", "signedAndEnvelopedData")
    sed = info["content"]
    check(int(sed["version"]) == 1 and len(sed["recipientInfos"]) == 1 and len(sed["signerInfos"]) == 1, "one of each")
    recipient = sed["recipientInfos"][0]
    check(int(recipient["issuerAndSerialNumber"]["serialNumber"]) == serial_of(sign_cert_pem, label + "-sign"),
          "addressed to the signing certificate")
    check(bytes(recipient["issuerAndSerialNumber"]["issuer"]) in pem_der(sign_cert_pem), "recipient issuer")
    check(str(recipient["keyEncryptionAlgorithm"]["algorithm"]) == "1.2.156.10197.1.301.3", "SM2 encryption")
    write(f"{label}-cek.der", recipient["encryptedKey"].asOctets())
    run("openssl", "pkeyutl", "-decrypt", "-inkey", signing_key_file, "-in", f"{label}-cek.der", "-out", f"{label}-cek.bin")
    cek = open(os.path.join(work, f"{label}-cek.bin"), "rb").read()
    check(len(cek) == 16, "a 128-bit SM4 key")
    content = sed["encryptedContentInfo"]
    check(str(content["contentType"]) == "1.2.156.10197.6.1.4.2.1", "data")
    check(str(content["contentEncryptionAlgorithm"]["algorithm"]) == "1.2.156.10197.1.104.2", "SM4-CBC")
    iv, _ = decoder.decode(bytes(content["contentEncryptionAlgorithm"]["parameters"]), asn1Spec=univ.OctetString())
    check(len(iv.asOctets()) == 16, "a 16-byte IV")
    write(f"{label}-content.bin", content["encryptedContent"].asOctets())
    run("openssl", "enc", "-d", "-sm4-cbc", "-K", cek.hex(), "-iv", iv.asOctets().hex(), "-in", f"{label}-content.bin",
        "-out", f"{label}-d.bin")
    d = open(os.path.join(work, f"{label}-d.bin"), "rb").read()
    check_scalar(d, enc_cert_pem, label)
    # Signed by the CA: SM2 with SM3 and the standard user id, over the content.
    signer = sed["signerInfos"][0]
    check(str(sed["digestAlgorithms"][0]["algorithm"]) == "1.2.156.10197.1.401", "SM3")
    check(str(signer["digestAlgorithm"]["algorithm"]) == "1.2.156.10197.1.401", "signer SM3")
    check(str(signer["digestEncryptionAlgorithm"]["algorithm"]) == "1.2.156.10197.1.301.1", "SM2 signature")
    check(int(signer["issuerAndSerialNumber"]["serialNumber"]) == serial_of(ca_cert_pem, label + "-ca"), "signed by the CA")
    check(bytes(sed["certificates"][0]) == pem_der(ca_cert_pem), "the CA certificate travels along")
    write(f"{label}-ca.pem", ca_cert_pem)
    write(f"{label}-ca-pub.pem", run("openssl", "x509", "-in", f"{label}-ca.pem", "-noout", "-pubkey").stdout)
    write(f"{label}-sig.der", signer["encryptedDigest"].asOctets())
    verify = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", f"{label}-ca-pub.pem", "-rawin", "-digest", "sm3",
              "-in", f"{label}-d.bin", "-sigfile", f"{label}-sig.der"]
    run(*verify, "-pkeyopt", "distid:1234567812345678")
    check(run(*verify, "-pkeyopt", "distid:1234567812345679", ok=False).returncode != 0, "the signature binds the id")
    return cek


sm2_root = create_ca({"type": "ROOT", "key_algorithm": "SM2", "signature_algorithm": "SM3",
                      "distinguished_name": dn("Envelope Root"), "validity": {"type": "YEAR", "value": 5}})
run("openssl", "genpkey", "-algorithm", "SM2", "-out", "customer-sign.key")
run("openssl", "req", "-new", "-key", "customer-sign.key", "-sm3", "-sigopt", "distid:1234567812345678",
    "-subj", "/CN=tlcp.example.com", "-out", "customer.csr")
csr = open(os.path.join(work, "customer.csr")).read()
dual = api("POST", "/v1/private-certificates/csr", {"issuer_id": sm2_root, "csr": csr, "validity": {"type": "DAY", "value": 30}}).json()["certificate_id"]
shown = api("GET", f"/v1/private-certificates/{dual}").json()
check(shown["enc_cert_info"] and shown["enc_cert_info"]["enc_serial_number"], "dual certificate")
out = export(dual).json()
check("private_key" not in out, "the customer holds the signing key")
check(not out["enc_private_key"].startswith("-----"), "the encryption key is enveloped, never plain")
open_envelope(out["enc_private_key"], "customer-sign.key", out["enc_certificate"], "plain-mode")
out = export(dual, is_sm_standard="true").json()
open_envelope(out["enc_sm2_enveloped_key"], "customer-sign.key", out["enc_certificate"], "standard-mode")
check("enc_private_key" not in out, "standard mode carries the key only enveloped")
open_signed_and_enveloped(out["signed_and_enveloped_data"], "customer-sign.key", out["certificate"], out["enc_certificate"],
                          out["certificate_chain"], "gmt0010")
r = export(dual, is_compressed="true", is_sm_standard="true")
archive = zipfile.ZipFile(io.BytesIO(r.content))
names = archive.namelist()
check(names == ["chain.pem", "signCert.pem", "encSm2EnvelopedKey.key", "signedAndEnvelopedData.key", "encCert.pem"],
      f"SM2 zip {names}")
open_signed_and_enveloped(archive.read("signedAndEnvelopedData.key").decode(), "customer-sign.key",
                          archive.read("signCert.pem").decode(), archive.read("encCert.pem").decode(),
                          archive.read("chain.pem").decode(), "gmt0010-zip")
wrong = run("openssl", "genpkey", "-algorithm", "SM2", "-out", "other.key")
envelope, _ = decoder.decode(base64.b64decode(out["enc_sm2_enveloped_key"]), asn1Spec=SM2EnvelopedKey())
write("other-symkey.der", encoder.encode(envelope["symEncryptedKey"]))
check(run("openssl", "pkeyutl", "-decrypt", "-inkey", "other.key", "-in", "other-symkey.der", ok=False).returncode != 0,
      "another key cannot open the envelope")
check(run("openssl", "pkeyutl", "-decrypt", "-inkey", "other.key", "-in", "gmt0010-cek.der", ok=False).returncode != 0,
      "another key cannot open the signed-and-enveloped data")

# A key pair the service generated: the encryption key comes as plain PEM.
generated = issue({"issuer_id": sm2_root, "key_algorithm": "SM2", "distinguished_name": {"common_name": "gen.example.com"},
                   "validity": {"type": "DAY", "value": 30}})
out = export(generated).json()
check(out["enc_private_key"].startswith("-----BEGIN PRIVATE KEY-----"), "plain PEM for a generated pair")
write("gen-enc.key", out["enc_private_key"])
write("gen-enc.pem", out["enc_certificate"])
check(run("openssl", "pkey", "-in", "gen-enc.key", "-pubout").stdout ==
      run("openssl", "x509", "-in", "gen-enc.pem", "-noout", "-pubkey").stdout, "generated encryption key matches")
# An SM2 dual certificate from a non-SM2 CA: the GM/T 0009 envelope, but no
# GM/T 0010 data (only an SM2 CA signs one).
mixed = issue({"issuer_id": root, "key_algorithm": "SM2", "distinguished_name": {"common_name": "mixed.example.com"},
               "validity": {"type": "DAY", "value": 30}})
out = export(mixed, is_sm_standard="true").json()
check(out.get("enc_sm2_enveloped_key") and out.get("signed_and_enveloped_data") is None,
      f"no GM/T 0010 data from an EC CA: {sorted(out)}")
print(f"pca external checks: ok ({len(linted)} certificates linted)")
