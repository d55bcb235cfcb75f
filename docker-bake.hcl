# The four service images, from the one Dockerfile: `docker buildx bake` builds them all,
# `docker buildx bake gateway` one. TAG names the tag (default dev), REGISTRY prefixes the name:
#   REGISTRY=registry.example.com/ TAG=0.1.0 docker buildx bake --push
# Each target's args are the service's build args (the Dockerfile documents them);
# docker-compose.yml passes the same (tools/compose/docker-compose.spec.ts compares them), and the
# benchmarks and load tests run each service with the NODE_OPTIONS given here.

variable "TAG" {
  default = "dev"
}

variable "REGISTRY" {
  default = ""
}

group "default" {
  targets = ["gateway", "change-reader", "batch-writer", "s3-uploader"]
}

target "_service" {
  context    = "."
  dockerfile = "Dockerfile"
  target     = "runtime"
}

target "gateway" {
  inherits = ["_service"]
  args = {
    APP          = "gateway"
    NODE_OPTIONS = "--max-semi-space-size=8"
    PORTS        = "8080 9090"
    HEALTH_PORT  = "8080"
  }
  tags = ["${REGISTRY}runnel/gateway:${TAG}"]
}

target "change-reader" {
  inherits = ["_service"]
  args = {
    APP          = "change-reader"
    NODE_OPTIONS = "--max-old-space-size=192 --max-semi-space-size=8"
    PORTS        = "9090"
    HEALTH_PORT  = "9090"
  }
  tags = ["${REGISTRY}runnel/change-reader:${TAG}"]
}

target "batch-writer" {
  inherits = ["_service"]
  args = {
    APP          = "batch-writer"
    NODE_OPTIONS = "--max-old-space-size=192 --max-semi-space-size=8"
    PORTS        = "9090"
    HEALTH_PORT  = "9090"
  }
  tags = ["${REGISTRY}runnel/batch-writer:${TAG}"]
}

target "s3-uploader" {
  inherits = ["_service"]
  args = {
    APP          = "s3-uploader"
    NODE_OPTIONS = "--max-old-space-size=192 --max-semi-space-size=8"
    PORTS        = "9090"
    HEALTH_PORT  = "9090"
  }
  tags = ["${REGISTRY}runnel/s3-uploader:${TAG}"]
}
