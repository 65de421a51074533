"""The Insight tab (F4): the engine's measurements (engine/inspect) drawn side by side for the three models.

    pane.py            the tab: views switched by 1-4, the text they look at, the workers it starts
    surprise_view.py   the text coloured by each model's surprise; top-5 guesses under the cursor
    span_view.py       loss against context length and influence against distance, log-scaled k
    attention_view.py  Romeo's attention as a heatmap, layer and head by key
    saturation_view.py Mercutio's gate saturation scatter (left/right, per gate)
    jobs.py            the thread workers; messages.py what they post
"""
