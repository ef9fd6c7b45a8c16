"""`cosmocore serve`: CosmoCore's sandbox and trusted verdicts over HTTP, for trainers in other processes
or on other machines (OpenRLHF, slime, verl, ROLL, any HTTP client).

    POST /get_reward   OpenRLHF's remote reward protocol; verdicts and rewards from CosmoCore's judge
    POST /run_code     SandboxFusion's run_code (python): a whole script under every isolation layer
    POST /v1/judge     one completion of one problem -> the full verdict
    GET  /healthz, GET /metrics (Prometheus text format)

Modules: `access` (token policy, the ASGI gatekeeper: auth, body size, draining, metrics), `schemas`
(request bodies), `protocols` (OpenRLHF and SandboxFusion <-> CosmoCore records, pure), `service` (the
work, off the event loop, with the capacity gate and deadlines), `app` (routes and error answers),
`metrics`, `server` (start and shutdown). FastAPI and uvicorn are the optional extra `cosmocore[serve]`,
imported only by `cosmocore serve` and `cosmocore bench serve`.

Safe by default: loopback only unless told otherwise; a token on any other address (generated if not
given; none on a wildcard address means no start); bodies over `--max-body-kb` get 413; at most
`--max-concurrency` requests in progress, the next one 429 + Retry-After (no queue); every request
answered within `--deadline-s` (504 past it); a hostile program gets a failing verdict and the server
goes on; SIGTERM drains, then closes the sandboxes.

What it does NOT protect against:
- `/run_code` results are not verdicts. The script ran isolated, but its exit code, stdout and stderr are
  whatever the program chose: a client that counts return code 0 (SandboxFusion's "Success") as a pass,
  as verl's and ROLL's assert-style checks do, is fooled by `sys.exit(0)` or `os._exit(0)`. Trusted
  verdicts come from `/v1/judge` and `/get_reward`, whose tests run outside the program.
- No TLS: on a network, put it behind a TLS-terminating proxy or keep it on a private network; the
  bearer token travels in the clear otherwise (and in the URL with the `/t/<token>/` prefix).
- One token for every client; no per-client quotas or rate limits beyond the shared concurrency cap.
- Denial of service by many slow connections (uvicorn's own limits apply, nothing more), and CPU and
  memory contention between requests beyond the sandbox's rlimits.
- Everything the sandbox does not protect against (`cosmocore.sandbox`): kernel exploits, reading
  world-readable host files, and without root the layers that need it.
"""
