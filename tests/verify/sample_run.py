"""The sample run shown in docs/verify.md: scripts/verify.py against moto's server on 127.0.0.1.

    uv run --frozen python tests/verify/sample_run.py

Builds the compliant account of the tests, then the drift the issue names (bucket encryption removed
from the console, key store DISCONNECTED, snapshot copied to us-east-1, a log group in eu-central-1)
and runs ``scripts/verify.py --target aws --regions eu-west-3,us-east-1`` with the KMS custom-key-store
calls moto lacks answered by botocore Stubbers. Exit status: verify's.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-3",
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
    )
    try:
        from tests.verify.conftest import admin, build_compliant, compliant_store, kms_stubs

        account = build_compliant()
        admin("s3").delete_bucket_encryption(Bucket=account.bucket)
        account.store = compliant_store(
            ConnectionState="DISCONNECTED", ConnectionErrorCode="XKS_PROXY_TIMED_OUT"
        )
        snapshot = admin("rds").create_db_snapshot(
            DBInstanceIdentifier="booking-db", DBSnapshotIdentifier="before-migration"
        )
        admin("rds", "us-east-1").copy_db_snapshot(
            SourceDBSnapshotIdentifier=snapshot["DBSnapshot"]["DBSnapshotArn"],
            TargetDBSnapshotIdentifier="before-migration-copy",
            SourceRegion="eu-west-3",
            KmsKeyId="alias/aws/rds",
        )
        admin("logs", "eu-central-1").create_log_group(logGroupName="/booking/debug", tags={"app": "booking"})

        spec = importlib.util.spec_from_file_location("verify", ROOT / "scripts" / "verify.py")
        assert spec and spec.loader
        verify = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(verify)
        clients, _ = kms_stubs(account, other_regions=("us-east-1",))
        setattr(verify, "aws_client_overrides", lambda: clients)  # noqa: B010 - module loaded from a path
        with tempfile.TemporaryDirectory() as out:
            print(
                "$ scripts/verify.py --target aws --regions eu-west-3,us-east-1 --out reports/live",
                flush=True,
            )
            code: int = verify.main(["--target", "aws", "--regions", "eu-west-3,us-east-1", "--out", out])
            sys.stdout.flush()
            print(f"$ echo $?\n{code}")
        return code
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
