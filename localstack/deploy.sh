#!/usr/bin/env bash
# Deploys the Sluice stack to LocalStack with cdklocal (aws-cdk-local, a devDependency). Needs Docker;
# never run in CI. Usage: localstack/deploy.sh [extra cdk deploy arguments, e.g. -c alertEmails=me@example.com]
#   localstack/deploy.sh down    stops LocalStack and removes its state
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSE=(docker compose -f localstack/docker-compose.yml)
if [[ "${1:-}" == "down" ]]; then
  "${COMPOSE[@]}" down --volumes
  exit 0
fi

# cdklocal and the AWS CLI talk to LocalStack with its fixed test account and dummy credentials.
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost.localstack.cloud:4566}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_PROFILE AWS_SESSION_TOKEN

"${COMPOSE[@]}" up -d --wait
curl -fsS "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null

npx cdklocal bootstrap "aws://000000000000/$AWS_REGION"
# destroy: `localstack/deploy.sh down` discards everything anyway, so nothing is kept back.
npx cdklocal deploy --require-approval never -c removalPolicy=destroy "$@"
