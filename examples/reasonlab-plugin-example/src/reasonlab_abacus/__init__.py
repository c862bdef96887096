"""An example reasonlab plugin: the Dormouse's abacus puzzle family, a reward, a backend, an augmentation."""
