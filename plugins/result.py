"""`result` step: where in the workflow staff attach the result document (kết quả giải
quyết) and whether the agency's digital signature is required on it.

The step only configures; it holds no cursor (it is done as soon as it is reached), and the
attaching itself is the core's (`motcua.results`, the back office's "Kết quả điện tử"),
which reads this configuration through the engine (`Engine.result_policy`). Without this
step a procedure takes its result once decided, signed when the agency has a key.

```yaml
steps:
  - review
  - name: result
    config: {attach_at: processing, signature: required}
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from motcua.workflow.step import Step, StepContext


class ResultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attach_at: Literal["processing", "decided"] = Field(
        default="decided",
        description="From when staff attach the result: `processing` (the specialist drafts it while "
        "the dossier is processed, before the decision) or `decided` (once approved, status 9)",
    )
    signature: Literal["required", "optional", "none"] = Field(
        default="optional",
        description="`required`: every result is signed with the agency's key (the portal will not start "
        "without one); `optional`: signed when staff tick it; `none`: never signed",
    )


class ResultStep(Step):
    name = "result"
    title = {"vi": "Kết quả giải quyết", "en": "Result"}
    Config = ResultConfig

    def enter(self, ctx: StepContext) -> None:
        ctx.done()
