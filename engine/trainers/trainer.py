class Trainer:  # placeholder until the training loop lands
    def __init__(self):
        self.optimizer = None
