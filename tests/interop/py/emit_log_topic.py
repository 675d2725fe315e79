#!/usr/bin/env python3
"""Tutorial 5, topics: publish to a topic exchange.

usage: emit_log_topic.py URL EXCHANGE ROUTING_KEY MESSAGE [ROUTING_KEY MESSAGE ...]
"""
import sys

import pika

from common import emit

url, exchange = sys.argv[1:3]
pairs = sys.argv[3:]

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.exchange_declare(exchange=exchange, exchange_type='topic')
for routing_key, message in zip(pairs[0::2], pairs[1::2]):
    channel.basic_publish(exchange=exchange, routing_key=routing_key, body=message)
    emit('sent', routing_key=routing_key, body=message)
connection.close()
