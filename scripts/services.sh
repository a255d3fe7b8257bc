#!/usr/bin/env bash
# The services the tests need, on 127.0.0.1:
# MariaDB on 3306 (root, empty password, database `test`) and Redis on 6379.
# Installs them from Debian's packages where missing; starts only what is down.
# Safe to run again and again; quiet when all is up already.
set -euo pipefail

missing=()
[[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server mariadb-client)
command -v redis-server >/dev/null || missing+=(redis-server redis-tools)
if ((${#missing[@]})); then
  echo "services: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

wait_for() { # wait_for NAME COMMAND...: up to 60 s
  local name=$1; shift
  for _ in $(seq 120); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "services: $name did not come up" >&2
  return 1
}

if ! mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1 \
  && ! mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping >/dev/null 2>&1; then
  echo "services: starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  wait_for MariaDB mariadb-admin --protocol=socket -uroot ping
fi
# root over TCP with an empty password, as on the machines where MariaDB comes ready
if ! mariadb --protocol=tcp -h127.0.0.1 -uroot -e 'SELECT 1' >/dev/null 2>&1; then
  mariadb --protocol=socket -uroot -e \
    "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket; FLUSH PRIVILEGES;"
fi
mariadb --protocol=tcp -h127.0.0.1 -uroot -e 'CREATE DATABASE IF NOT EXISTS test'

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
fi
