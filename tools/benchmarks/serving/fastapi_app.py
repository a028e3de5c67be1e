"""sentence-transformers behind FastAPI, as people commonly write an embedding endpoint:
one model loaded at start, POST /v1/embeddings in OpenAI's shape, encode per request.
Started by tools/benchmarks/serving.py:  uvicorn fastapi_app:app --port P  (env MODEL_DIR)."""
import os

from fastapi import FastAPI
from pydantic import BaseModel
from sentence_transformers import SentenceTransformer

model = SentenceTransformer(os.environ["MODEL_DIR"], device="cpu")
app = FastAPI()


class EmbeddingsRequest(BaseModel):
    input: str | list[str]
    model: str | None = None


@app.post("/v1/embeddings")
def embeddings(request: EmbeddingsRequest):
    texts = [request.input] if isinstance(request.input, str) else request.input
    vectors = model.encode(texts, batch_size=32, normalize_embeddings=True)
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)],
        "model": request.model or "all-MiniLM-L6-v2",
    }


@app.get("/health")
def health():
    return {}
