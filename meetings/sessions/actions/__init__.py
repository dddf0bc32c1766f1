"""What a council session does, one module per kind of operation (as Zulip's ``zerver/actions``).

Each action takes the runtime (:class:`meetings.sessions.service.SessionsService`), who asks and a
typed request (``meetings.sessions.bodies``); it checks the caller (``guard_txn``), runs the SQL of
the repositories (``repo``, ``speakers_repo``, ``polls``) in one transaction, audits, and publishes
the event after the commit.  No SQL is written here.
"""
