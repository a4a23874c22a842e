#!/usr/bin/env python3
"""Generates demo/orders.csv, the dataset `make demo` imports: 20,000 made-up orders.

Deterministic (fixed seed), so the committed file and the demo's output never change.
Run: python3 demo/generate.py > demo/orders.csv
"""
import random

rng = random.Random(20261121)
cities = ["Amsterdam", "Berlin", "Lisbon", "London", "Madrid", "Oslo", "Paris", "Prague", "Rome", "Vienna"]
products = ["lamp", "chair", "desk", "shelf", "rug", "mirror", "sofa", "stool"]
print("order_id,customer,city,product,quantity,amount,shipped,coupon")
for i in range(1, 20001):
    city = cities[rng.randrange(len(cities))]
    product = products[rng.randrange(len(products))]
    quantity = rng.randint(1, 9)
    amount = round(quantity * rng.uniform(5, 120), 2)
    shipped = "true" if rng.random() < 0.8 else "false"
    coupon = "" if rng.random() < 0.9 else "SAVE%d" % rng.choice([5, 10, 15])
    customer = "c%05d" % rng.randint(1, 4000)
    print(f"o{i:06d},{customer},{city},{product},{quantity},{amount:.2f},{shipped},{coupon}")
