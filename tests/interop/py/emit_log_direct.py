#!/usr/bin/env python3
"""Tutorial 4, routing: publish to a direct exchange with a severity as routing key.

usage: emit_log_direct.py URL EXCHANGE SEVERITY MESSAGE [SEVERITY MESSAGE ...]
"""
import sys

import pika

from common import emit

url, exchange = sys.argv[1:3]
pairs = sys.argv[3:]

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.exchange_declare(exchange=exchange, exchange_type='direct')
for severity, message in zip(pairs[0::2], pairs[1::2]):
    channel.basic_publish(exchange=exchange, routing_key=severity, body=message)
    emit('sent', routing_key=severity, body=message)
connection.close()
