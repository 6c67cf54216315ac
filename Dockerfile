# The claimledger image: the same `claimledger` command line, against an external PostgreSQL.
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 claimledger
WORKDIR /app
COPY pyproject.toml README.md ./
COPY claimledger ./claimledger
COPY domain ./domain
COPY store ./store
COPY projections ./projections
COPY webhooks ./webhooks
COPY runtime ./runtime
COPY api ./api
COPY cli ./cli
RUN pip install --no-cache-dir .

USER claimledger
EXPOSE 8000
ENTRYPOINT ["claimledger"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
