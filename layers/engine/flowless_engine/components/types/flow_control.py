"""Flow control (components/flow_control.py; Pass lives with processing_more)."""

TYPES: dict[str, str] = {
    "LoopComponent": "flow_control:LoopComponent",
    "RunFlow": "flow_control:RunFlowComponent",
    "SubFlow": "flow_control:SubFlowComponent",
    "FlowTool": "flow_control:FlowToolComponent",
    "Notify": "flow_control:NotifyComponent",
    "Listen": "flow_control:ListenComponent",
}
