"""The victims the tests build: re-exported from responder_cli.sandbox.victims, which the CLI shares."""

from responder_cli.sandbox.victims import (
    AMI,
    UserVictim,
    Victim,
    eni_groups,
    make_asg_instance,
    make_bucket,
    make_groups,
    make_iam_user,
    make_instance,
    make_instance_profile,
    make_vpc,
)

__all__ = [
    "AMI",
    "UserVictim",
    "Victim",
    "eni_groups",
    "make_asg_instance",
    "make_bucket",
    "make_groups",
    "make_iam_user",
    "make_instance",
    "make_instance_profile",
    "make_vpc",
]
