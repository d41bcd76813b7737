"""What identifies each network, importable without torch (the onnxruntime path needs it)."""

MULTISTYLE = "magenta_multistyle"  # neural_style/multistyle.py
MULTISTYLE_INPUT_SCALE = 1.0
NUM_STYLES = 26
# Name of the ONNX graph input carrying the style weights; it identifies the net.
STYLE_INPUT = "style_weights"

TRANSFORMER_NET = "transformer_net"  # neural_style/transformer_net.py
TRANSFORMER_NET_INPUT_SCALE = 255.0

INPUT_SCALES = {MULTISTYLE: MULTISTYLE_INPUT_SCALE, TRANSFORMER_NET: TRANSFORMER_NET_INPUT_SCALE}
