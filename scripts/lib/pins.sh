# The Python tools' versions, in one place: every script that installs one sources this file, so
# CI, the deploy build and the benchmark all run the same versions. Bump deliberately: a new
# cfn-lint or schemathesis can bring new checks, a new zig can break the arm64 cross-build.
#
#   source scripts/lib/pins.sh

# shellcheck disable=SC2034  # used by the scripts that source this file
AWS_SAM_CLI_PIN=aws-sam-cli==1.170.0
CFN_LINT_PIN=cfn-lint==1.58.0
# cargo-lambda drives cargo-zigbuild with zig from the ziglang wheel (arm64 builds). 0.14.1 is
# the zig this cargo-lambda's arm64 builds were measured with (BENCHMARKS.md, section 3).
CARGO_LAMBDA_PIN=cargo-lambda==1.9.2
ZIGLANG_PIN=ziglang==0.14.1
SCHEMATHESIS_PINS=(schemathesis==4.32.5 openapi-spec-validator==0.9.0)
MOTO_PIN="moto[server]==5.1.22"
