# The two commands for a fresh machine: `make up` and `make test` (see README.md).
.PHONY: up down status test build lint format

up:
	@deploy/local/stack.sh up

down:
	@deploy/local/stack.sh down

status:
	@deploy/local/stack.sh status

test:
	@deploy/local/test.sh

lint:
	@deploy/local/lint.sh

format:
	@deploy/local/lint.sh --fix

build:
	@deploy/local/deps.sh
	@PATH=/opt/swift/usr/bin:$$PATH swift build
