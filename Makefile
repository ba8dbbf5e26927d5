.PHONY: up test bench
up:      ## install and run Fjord on embedded defaults (broker on 127.0.0.1:9092)
	bash scripts/up.sh
test:    ## install what the suite needs and run all of it
	bash scripts/test.sh
bench:   ## throughput and latency figures (see bench/README.md)
	bash scripts/setup.sh && .venv/bin/python bench/broker_throughput.py
