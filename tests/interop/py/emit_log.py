#!/usr/bin/env python3
"""Tutorial 3, publish/subscribe: publish to a fanout exchange.

usage: emit_log.py URL EXCHANGE MESSAGE [MESSAGE ...]
"""
import sys

import pika

from common import emit

url, exchange = sys.argv[1:3]

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.exchange_declare(exchange=exchange, exchange_type='fanout')
for message in sys.argv[3:]:
    channel.basic_publish(exchange=exchange, routing_key='', body=message)
    emit('sent', exchange=exchange, body=message)
connection.close()
