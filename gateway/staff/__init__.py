"""Staff accounts: who may use the console, with which role, for which hospital.

A `ministry` account sees every hospital; `admin`, `desk` and `doctor` accounts belong to one.
Passwords are argon2id hashes, second factors TOTP secrets sealed with the gateway's key,
recovery and setup codes SHA-256 hashes (they are long and random: no slow hash needed), and
sessions live in the database, so disabling an account or resetting it ends its sessions at
once, on every web machine.
"""
