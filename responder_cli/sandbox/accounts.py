"""Another account in the emulator: moto grants credentials in any account through an assumed role there,
which is how the sandbox demo and the tests create resources in a member account."""

from __future__ import annotations

import boto3


def emulator_account_session(account: str, region: str) -> boto3.Session:
    creds = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="sandbox-setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )
