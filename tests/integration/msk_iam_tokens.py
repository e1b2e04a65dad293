"""MSK IAM tokens from the reference signer, aws-msk-iam-sasl-signer-python
(PyPI), for a fixed clock: the oracle of msk_iam_tokens.sh.

  msk_iam_tokens.py REGION EPOCH_SECONDS
      prints "TOKEN EXPIRY_MS USER_AGENT": the token the signer's public
      generate_auth_token(REGION) returns (its credentials from botocore's
      default chain: the environment, then AWS_SHARED_CREDENTIALS_FILE and
      AWS_PROFILE), with botocore's clock (botocore.auth.get_current_datetime,
      which SigV4QueryAuth.add_auth reads) fixed at EPOCH_SECONDS through
      unittest.mock; USER_AGENT is the one it appended.
  msk_iam_tokens.py decode TOKEN
      prints the URL inside a token (base64url without padding).
"""
import base64
import datetime
import sys
from unittest import mock

import botocore.auth
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider


def reference(region, epoch):
    when = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: when):
        token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
    agent = getattr(MSKAuthTokenProvider, "__get_user_agent__")()
    print(token, expiry_ms, agent)


def decode(token):
    print(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())


if __name__ == "__main__":
    if sys.argv[1] == "decode":
        decode(sys.argv[2])
    else:
        reference(sys.argv[1], int(sys.argv[2]))
