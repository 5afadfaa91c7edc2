"""Escalation routing: the policy file, category matching and the pure router.

Wiring for the pipeline (``supportbot ask``, the Slack app) and ``eval routing``::

    policy = load_policy(settings.policies_dir)                  # routing.policy
    matcher = CategoryMatcher(policy, embedder)                  # routing.categories
    retrieval = retriever.retrieve(question, settings.retrieval_k)
    match = matcher.match(question, retrieval)
    decision = before_model(question, retrieval, policy, match, channel=Channel(id=..., name=...))
    if decision.declined: ...                                    # polite decline, no model call
    outcome = executor.draft(question, retrieval.passages)       # a draft even for "human"
    decision = after_model(decision, outcome, policy,
                           frontier=FrontierState(configured=..., budget=BudgetState(...)))
    if decision.route == "frontier":
        decision = after_frontier(decision, escalator.escalate(request))

``routing.evaluation`` scores decisions against labelled questions (``evaluate_pre_model`` is
``eval routing --no-model``). This package's ``__init__`` imports nothing, because
``supportbot.llm.types`` imports ``routing.types`` and ``routing.router`` imports
``supportbot.llm.types``.
"""
