"""HTTP: thin FastAPI routers over the sampler's Store. Nothing here calls psutil for shared views."""
