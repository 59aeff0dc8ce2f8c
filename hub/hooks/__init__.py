"""REST-hook subscriptions and their signing secrets.

Public faces: ``models.Subscription`` / ``models.SubscriptionSecret``,
``secrets.live_secrets`` (what the delivery engine signs with), ``service``
(subscribe / unsubscribe) and ``admin`` (pause, resume, delete, rotate).
"""
