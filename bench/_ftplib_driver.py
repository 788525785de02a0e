"""Python's ftplib as the bench drives it: the protocol of _client_driver.mjs.

Usage: python3 bench/_ftplib_driver.py OP HOST PORT USER PASSWORD ARGS, with OP one of
retr REMOTE LOCAL, stor LOCAL REMOTE, mretr LIST_FILE LOCAL_DIR (one session),
pretr LIST_FILE LOCAL_DIR (one session per file, in threads), list REMOTE_DIR OUT_FILE (LIST,
one name per line). Stock ftplib: passive mode (PASV), its default 8 KiB blocks.
Prints {"seconds": S, "cpu": C} on success (start-up left out).
"""

import ftplib
import json
import os
import sys
import threading
import time


def session(host, port, user, password):
    ftp = ftplib.FTP()
    ftp.connect(host, int(port), timeout=600)
    ftp.login(user, password)
    return ftp


def retr(ftp, remote, local):
    with open(local, "wb") as out:
        ftp.retrbinary("RETR " + remote, out.write)


def main():
    op, host, port, user, password, *args = sys.argv[1:]
    connect = lambda: session(host, port, user, password)
    started, cpu0 = time.perf_counter(), time.process_time()
    if op == "retr":
        ftp = connect()
        retr(ftp, args[0], args[1])
        ftp.quit()
    elif op == "stor":
        ftp = connect()
        with open(args[0], "rb") as source:
            ftp.storbinary("STOR " + args[1], source)
        ftp.quit()
    elif op in ("mretr", "pretr"):
        with open(args[0]) as listing:
            remotes = [line.strip() for line in listing if line.strip()]
        target = lambda remote: os.path.join(args[1], os.path.basename(remote))
        if op == "mretr":
            ftp = connect()
            for remote in remotes:
                retr(ftp, remote, target(remote))
            ftp.quit()
        else:
            errors = []

            def one(remote):
                try:
                    ftp = connect()
                    retr(ftp, remote, target(remote))
                    ftp.quit()
                except Exception as error:  # reported below, the exit code says it
                    errors.append(error)

            threads = [threading.Thread(target=one, args=(r,)) for r in remotes]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if errors:
                raise errors[0]
    elif op == "list":
        ftp = connect()
        lines = []
        ftp.retrlines("LIST " + args[0], lines.append)
        ftp.quit()
        with open(args[1], "w") as out:
            for line in lines:
                out.write(line.split()[-1] + "\n")
    else:
        raise SystemExit("unknown operation " + op)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "cpu": time.process_time() - cpu0}))


main()
