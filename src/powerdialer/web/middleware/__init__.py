"""The ASGI middleware around the routes, one module each; ``web/app.py`` stacks them.

Outermost first, for every request:

1. ``cors.ApiCors`` — only when ``POWERDIALER_CORS_ORIGINS`` is set (no wrapper otherwise);
2. ``keyauth.KeyAuthMiddleware`` — every ``/power-dialer/`` path but the public ones is
   verified before anything below spends on it (a body read, a rate limit, a claimed key);
3. ``idempotency.IdempotencyMiddleware`` — a POST with ``Idempotency-Key`` runs once and is
   replayed after (its writes: ``idempotency_writes``);
4. the route: the compatible endpoint (``web/compat.py``) answers its path itself; everything
   else goes on to
5. ``ratelimit.RateLimitMiddleware`` → ``bodylimit.BodyLimitMiddleware`` →
   ``textguard.NulGuardMiddleware`` → the FastAPI app (``web/api``, ``web/ui``).
"""
