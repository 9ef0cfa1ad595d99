"""A bare FastAPI "hello" endpoint, served exactly like the console, as the benchmark floor.

    python bench/bare_app.py PORT
"""
import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
def hello() -> dict:
    return {"hello": "world"}


if __name__ == "__main__":
    # Access log on, as the console runs.
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
