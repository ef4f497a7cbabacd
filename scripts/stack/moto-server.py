"""
moto's server for `npm start`, made replayable: [Note: moto state across restarts].

moto keeps everything in memory. Started with MOTO_ENABLE_RECORDING, it appends every request to
MOTO_RECORDER_FILEPATH, and /moto-api/recorder/replay-recording sends them again to a new server.
After /moto-api/seed, the identifiers moto draws from its own random (KMS key ids, Cognito pool
and client ids, version ids) come out the same in a replay. Two values come from os.urandom instead and
would differ after a replay; this wrapper derives them from VEIL_MOTO_STATE_SECRET:

- a KMS key's material, from the key's id (else data keys wrapped before the restart would no
  longer decrypt);
- a multipart upload's id, from the object key and how many uploads that key had before (else
  the replayed UploadPart calls would name an unknown upload).

Local demo only: the secret sits in the stack's directory, like the SoftHSM2 PIN.
"""

import base64
import hashlib
import hmac
import os
import sys
import threading

import moto.kms.models as kms_models
import moto.s3.models as s3_models
from moto.server import main

SECRET = bytes.fromhex(os.environ["VEIL_MOTO_STATE_SECRET"])


def derive(label: str, size: int) -> bytes:
    out = b""
    block = 0
    while len(out) < size:
        out += hmac.new(SECRET, f"{label}|{block}".encode(), hashlib.sha256).digest()
        block += 1
    return out[:size]


kms_key_init = kms_models.Key.__init__


def key_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    kms_key_init(self, *args, **kwargs)
    self.key_material = derive(f"kms-key|{self.id}", len(self.key_material))


kms_models.Key.__init__ = key_init

multipart_init = s3_models.FakeMultipart.__init__
uploads_per_key: dict[str, int] = {}
uploads_lock = threading.Lock()


def multipart_upload_init(self, key_name, *args, **kwargs):  # type: ignore[no-untyped-def]
    multipart_init(self, key_name, *args, **kwargs)
    with uploads_lock:
        seq = uploads_per_key.get(key_name, 0)
        uploads_per_key[key_name] = seq + 1
    raw = derive(f"upload|{key_name}|{seq}", s3_models.UPLOAD_ID_BYTES)
    self.id = base64.b64encode(raw).decode().replace("=", "").replace("+", "").replace("/", "")


s3_models.FakeMultipart.__init__ = multipart_upload_init

if __name__ == "__main__":
    main(sys.argv[1:])
