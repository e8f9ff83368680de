"""Seeds the fuzzed service through its own API and writes Schemathesis' settings.

Run against a freshly migrated database: the fuzzer's path parameters then name real
objects (a project, a task, a session, teams with a second member, an invite), so the
fuzzed requests reach the code behind the 404. Objects the fuzzer deletes are their own,
so deleting them does not turn every later request into a 404. The ids go into a copy
of fuzz/schemathesis.toml.template; the access token is printed as a shell assignment.

    eval "$(python -m fuzz.seed http://127.0.0.1:$PORT fuzz/out/schemathesis.toml)"
"""

import shlex
import sys
from pathlib import Path
from string import Template

import httpx

PASSWORD = "fuzzing passphrase 7731"


def main(base_url: str, config_path: Path) -> None:
    client = httpx.Client(base_url=f"{base_url}/api/v1", timeout=10)

    def call(method: str, path: str, token: str, **json) -> dict:
        response = client.request(
            method, path, json=json or None, headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        return response.json() if response.content else {}

    def register(email: str) -> dict:
        response = client.post(
            "/auth/register/",
            json={"email": email, "password": PASSWORD, "display_name": email.split("@")[0]},
        )
        response.raise_for_status()
        return response.json()

    owner = register("fuzz-owner@example.com")
    member = register("fuzz-member@example.com")
    leaver = register("fuzz-leaver@example.com")
    token = owner["access"]

    project = call("POST", "/projects/", token, name="Fuzzed project")
    doomed_project = call("POST", "/projects/", token, name="Project the fuzzer deletes")
    task = call("POST", "/tasks/", token, title="Fuzzed task", project=project["id"])
    doomed_task = call("POST", "/tasks/", token, title="Task the fuzzer deletes")
    tag = call("POST", "/tags/", token, name="Fuzzed tag")
    doomed_tag = call("POST", "/tags/", token, name="Tag the fuzzer deletes")
    # A finished session (history, analytics) and a planned one the timer actions act on.
    call(
        "POST",
        "/sessions/log/",
        token,
        started_at="2025-01-06T09:00:00Z",
        ended_at="2025-01-06T09:25:00Z",
        task=task["id"],
    )
    session = call("POST", "/sessions/", token, kind="focus", task=task["id"])
    doomed_session = call(
        "POST",
        "/sessions/log/",
        token,
        started_at="2025-01-07T09:00:00Z",
        ended_at="2025-01-07T09:25:00Z",
    )

    team = call("POST", "/teams/", token, name="Fuzzed team")
    invite = call("POST", f"/teams/{team['id']}/invites/", token, max_uses=100)
    call("POST", "/teams/join/", member["access"], code=invite["code"])
    call("POST", "/teams/join/", leaver["access"], code=invite["code"])
    doomed_invite = call("POST", f"/teams/{team['id']}/invites/", token)
    doomed_team = call("POST", "/teams/", token, name="Team the fuzzer deletes")
    # Never delivered (no webhook worker runs while fuzzing), so any public-looking URL.
    webhook = call("POST", "/webhooks/", token, url="https://example.com/hooks/fuzz")
    doomed_webhook = call("POST", "/webhooks/", token, url="https://example.com/hooks/doomed")

    ids = {
        "FUZZ_PROJECT_ID": project["id"],
        "FUZZ_DOOMED_PROJECT_ID": doomed_project["id"],
        "FUZZ_TASK_ID": task["id"],
        "FUZZ_DOOMED_TASK_ID": doomed_task["id"],
        "FUZZ_TAG_ID": tag["id"],
        "FUZZ_DOOMED_TAG_ID": doomed_tag["id"],
        "FUZZ_SESSION_ID": session["id"],
        "FUZZ_DOOMED_SESSION_ID": doomed_session["id"],
        "FUZZ_TEAM_ID": team["id"],
        "FUZZ_DOOMED_TEAM_ID": doomed_team["id"],
        "FUZZ_MEMBER_ID": member["user"]["id"],
        "FUZZ_LEAVER_ID": leaver["user"]["id"],
        "FUZZ_INVITE_CODE": invite["code"],
        "FUZZ_DOOMED_INVITE_CODE": doomed_invite["code"],
        "FUZZ_WEBHOOK_ID": webhook["id"],
        "FUZZ_DOOMED_WEBHOOK_ID": doomed_webhook["id"],
    }
    template = Template((Path(__file__).parent / "schemathesis.toml.template").read_text())
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(template.substitute(ids, FUZZ_TOKEN="${FUZZ_TOKEN}"))
    print(f"export FUZZ_TOKEN={shlex.quote(token)}")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
