internal import Prometheus
