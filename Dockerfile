# The router as a container: the C extension is built in a first stage, the
# runtime stage has no compiler and runs as a non-root user.
#
#   docker build -t llm-router .
#   docker run -p 3030:3030 -v "$PWD/policy.yaml:/etc/llm-router/policy.yaml:ro" \
#     -e OPENAI_API_KEY -e SARMALINK_API_KEY llm-router
#
# The policy is read from /etc/llm-router/policy.yaml (mount yours there; the
# example policy is the default) and reloaded when it changes (--watch).
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY classifier_ext/ classifier_ext/
COPY router/ router/
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --no-log-init \
        --home-dir /var/lib/llm-router --create-home llr
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels local-llm-router \
    && rm -rf /wheels
COPY policy.example.yaml /etc/llm-router/policy.yaml
ENV LLR_POLICY=/etc/llm-router/policy.yaml \
    LLR_HOST=0.0.0.0 \
    LLR_PORT=3030 \
    LLR_DB=/var/lib/llm-router/metrics.db \
    LLR_CACHE_DIR=/var/lib/llm-router/cache \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /var/lib/llm-router
EXPOSE 3030
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:%s/health' % os.environ.get('LLR_PORT', '3030'), timeout=2)"]
ENTRYPOINT ["llm-router"]
CMD ["serve", "--watch", "--log-format", "json"]
